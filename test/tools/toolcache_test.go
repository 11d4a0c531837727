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

// Package tools tests the scripts that provide make's tools:
// hack/tool-cache.sh, which keeps every tool built per machine and recipe
// so that a fresh clone (every CI run) copies it instead of compiling it
// again for most of an hour.
package tools

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/supportstack/operator/internal/testenv"
)

// cache runs hack/tool-cache.sh over a fake build in dir: it writes
// "built N" into two executable outputs (N counts its runs, in dir/runs)
// and fails when FAIL is set.
type cache struct {
	t            *testing.T
	dir, recipe  string
	outA, outB   string
	lastCombined string
}

func newCache(t *testing.T) *cache {
	dir := t.TempDir()
	c := &cache{t: t, dir: dir, recipe: filepath.Join(dir, "build.sh"),
		outA: filepath.Join(dir, "bin", "a"), outB: filepath.Join(dir, "bin", "sub", "b")}
	c.writeRecipe("# builds a and b\necho step one\n")
	return c
}

func (c *cache) writeRecipe(text string) {
	if err := os.WriteFile(c.recipe, []byte(text), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// run runs the cache over the fake build and returns its exit error.
func (c *cache) run(toolCache string, extraEnv ...string) error {
	c.t.Helper()
	build := `set -e; [ -z "$FAIL" ] || exit 3; n=$(( $(cat runs 2>/dev/null || echo 0) + 1 )); echo $n > runs;` +
		` mkdir -p bin/sub; echo "built $n" > bin/a; echo "built $n" > bin/sub/b; chmod +x bin/a bin/sub/b`
	cmd := exec.Command(filepath.Join(testenv.RepoRoot(), "hack", "tool-cache.sh"), "fake-v1", "-r", c.recipe,
		c.outA, c.outB, "--", "bash", "-c", build)
	cmd.Dir = c.dir
	cmd.Env = append(append(os.Environ(), "TOOL_CACHE="+toolCache), extraEnv...)
	out, err := cmd.CombinedOutput()
	c.lastCombined = string(out)
	return err
}

func (c *cache) read(path string) string {
	c.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		c.t.Fatalf("%s: %v (output: %s)", path, err, c.lastCombined)
	}
	return strings.TrimSpace(string(b))
}

// fresh removes the outputs, as a new clone has none.
func (c *cache) fresh() {
	c.t.Helper()
	if err := os.RemoveAll(filepath.Join(c.dir, "bin")); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cache) kept(root string) []string {
	c.t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil && !os.IsNotExist(err) {
		c.t.Fatal(err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestToolCache(t *testing.T) {
	c := newCache(t)
	root := filepath.Join(c.dir, "cache")

	// The first build runs and is kept.
	if err := c.run(root); err != nil {
		t.Fatalf("first build: %v\n%s", err, c.lastCombined)
	}
	if got := c.read(c.outB); got != "built 1" {
		t.Fatalf("first build wrote %q", got)
	}
	if kept := c.kept(root); len(kept) != 1 || !strings.HasPrefix(kept[0], "fake-v1-") {
		t.Fatalf("kept %v, want one fake-v1-<key>", kept)
	}

	// Outputs all present: nothing runs, nothing is copied.
	if err := c.run(root); err != nil || c.read(filepath.Join(c.dir, "runs")) != "1" {
		t.Fatalf("with the outputs present the build ran again (%v)\n%s", err, c.lastCombined)
	}

	// A fresh clone copies both outputs, their directories made, without building.
	c.fresh()
	if err := c.run(root); err != nil {
		t.Fatalf("copy: %v\n%s", err, c.lastCombined)
	}
	if c.read(filepath.Join(c.dir, "runs")) != "1" || c.read(c.outA) != "built 1" || c.read(c.outB) != "built 1" {
		t.Fatalf("a fresh clone did not get the kept build\n%s", c.lastCombined)
	}
	if info, err := os.Stat(c.outA); err != nil || info.Mode()&0o111 == 0 {
		t.Fatalf("the copied tool is not executable: %v %v", info.Mode(), err)
	}

	// A comment in the recipe builds nothing: still copied.
	c.writeRecipe("# builds a and b, differently worded\necho step one\n")
	c.fresh()
	if err := c.run(root); err != nil || c.read(filepath.Join(c.dir, "runs")) != "1" {
		t.Fatalf("a changed comment rebuilt (%v)\n%s", err, c.lastCombined)
	}

	// A changed line is a new recipe: built afresh, and only it is kept.
	c.writeRecipe("# builds a and b\necho step two\n")
	c.fresh()
	if err := c.run(root); err != nil || c.read(c.outA) != "built 2" {
		t.Fatalf("a changed recipe was not rebuilt (%v)\n%s", err, c.lastCombined)
	}
	if kept := c.kept(root); len(kept) != 1 {
		t.Fatalf("kept %v: the older recipe should be gone", kept)
	}

	// A failed build fails the call and keeps nothing new.
	c.writeRecipe("echo step three\n")
	c.fresh()
	if err := c.run(root, "FAIL=1"); err == nil {
		t.Fatal("a failed build succeeded")
	}
	if kept := c.kept(root); len(kept) != 1 {
		t.Fatalf("a failed build changed the cache: %v", kept)
	}

	// A build that leaves an output missing fails and keeps nothing.
	cmd := exec.Command(filepath.Join(testenv.RepoRoot(), "hack", "tool-cache.sh"), "half-v1",
		c.outA, c.outB, "--", "bash", "-c", "mkdir -p bin; echo x > bin/a")
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "TOOL_CACHE="+root)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "was not built") {
		t.Fatalf("a build missing an output: %v\n%s", err, out)
	}
	for _, name := range c.kept(root) {
		if strings.HasPrefix(name, "half-v1") {
			t.Fatalf("kept %s though an output was missing", name)
		}
	}

	// TOOL_CACHE=off always builds and keeps nothing.
	off := filepath.Join(c.dir, "off")
	c.fresh()
	if err := c.run("off"); err != nil || c.read(c.outA) != "built 3" {
		t.Fatalf("TOOL_CACHE=off: %v\n%s", err, c.lastCombined)
	}
	if _, err := os.Stat(off); !os.IsNotExist(err) {
		t.Fatal("TOOL_CACHE=off made a cache")
	}
}

// TestRcloneHasTheCommandsUsed: hack/build-rclone.sh builds only the rclone
// commands it imports, so every command a manifest runs the s3 image with
// must be among them (the demo's bucket is made with `rclone mkdir`: a
// build without it left the store's Deployment unready).
func TestRcloneHasTheCommandsUsed(t *testing.T) {
	root := testenv.RepoRoot()
	build, err := os.ReadFile(filepath.Join(root, "hack", "build-rclone.sh"))
	if err != nil {
		t.Fatal(err)
	}
	image := regexp.MustCompile(`image: (?:docker\.io/)?supportstack/s3:dev\s*\n(?:\s*imagePullPolicy: \w+\s*\n)?\s*args: \[([^\]]*)\]`)
	found := 0
	for _, file := range []string{"config/demo/store.yaml", "hack/cluster-test.sh"} {
		text, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range image.FindAllStringSubmatch(string(text), -1) {
			found++
			args := strings.Split(m[1], ",")
			command := "cmd/" + strings.TrimSpace(args[0])
			if strings.TrimSpace(args[0]) == "serve" && len(args) > 1 {
				command += "/" + strings.TrimSpace(args[1])
			}
			if !strings.Contains(string(build), `"github.com/rclone/rclone/`+command+`"`) {
				t.Errorf("%s runs the s3 image with %q, which hack/build-rclone.sh does not build (%s)", file, m[1], command)
			}
		}
	}
	if found < 3 {
		t.Fatalf("found %d uses of the s3 image, want the demo store's two containers and cluster-test.sh's pod", found)
	}
}
