/*
Copyright 2026 The SupportStack Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package generated

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/supportstack/operator/internal/testenv"
)

// The images are built two ways: by Dockerfile and Dockerfile.agent where a
// container engine runs, and by hack/images.sh from Debian packages here.
// Both must give the same contents: the same Debian packages, the same
// binary at the same path, the same user.
func TestDockerfilesMatchTheLocalImages(t *testing.T) {
	root := testenv.RepoRoot()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	images := read("hack/images.sh")
	agentDockerfile := read("Dockerfile.agent")
	managerDockerfile := read("Dockerfile")

	// Dockerfile.agent: apt-get install NAME[=VERSION] ...
	install := regexp.MustCompile(`(?s)apt-get install -y --no-install-recommends(.*?)&&`).FindStringSubmatch(agentDockerfile)
	if install == nil {
		t.Fatal("Dockerfile.agent has no apt-get install line")
	}
	fields := strings.Fields(strings.ReplaceAll(install[1], "\\", " "))
	docker := make([]string, 0, len(fields))
	for _, f := range fields {
		docker = append(docker, strings.SplitN(f, "=", 2)[0])
	}
	// hack/images.sh: mmdebstrap_dir "$1" minbase PKG,PKG,... in agent_base.
	local := regexp.MustCompile(`agent_base\(\) \{\s*mmdebstrap_dir "\$1" minbase ([a-z0-9.,-]+)`).FindStringSubmatch(images)
	if local == nil {
		t.Fatal("hack/images.sh has no agent_base package list")
	}
	localPkgs := strings.Split(local[1], ",")
	sort.Strings(docker)
	sort.Strings(localPkgs)
	if strings.Join(docker, " ") != strings.Join(localPkgs, " ") {
		t.Errorf("agent packages: Dockerfile.agent %v, hack/images.sh %v", docker, localPkgs)
	}

	for _, c := range []struct{ name, dockerfile, want, local string }{
		{"agent binary", agentDockerfile, "COPY --from=builder /workspace/agent /usr/local/bin/agent", `"$1/usr/local/bin/agent"`},
		{"agent user", agentDockerfile, "USER 65532:65532", `"User":"65532:65532","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":["/usr/local/bin/agent"]`},
		{"manager binary", managerDockerfile, "COPY --from=builder /workspace/manager .", `"$1/manager"`},
		{"manager user", managerDockerfile, "USER 65532:65532", `"User":"65532:65532","Entrypoint":["/manager"]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(c.dockerfile, c.want) {
				t.Errorf("the Dockerfile lacks %q", c.want)
			}
			if !strings.Contains(images, c.local) {
				t.Errorf("hack/images.sh lacks %q", c.local)
			}
		})
	}
}
