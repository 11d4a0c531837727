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

package main

// agentRepository is the agent image's name without its tag.
const agentRepository = "supportstack/agent"

// devTag is the tag of images from a build that set no version: the
// Makefile's default VERSION and the local cluster's images (hack/images.sh).
const devTag = "dev"

// defaultAgentImage is --agent-image's default: the agent image of the
// manager's own version (the build's -X main.version, which the Makefile
// and Dockerfile set from VERSION), supportstack/agent:dev for a build that
// set none. Never a moving tag such as latest: the agent must speak the
// manager's contract (agentapi.ContractVersion), and a Job must not depend
// on what a registry serves that day.
func defaultAgentImage(version string) string {
	if version == "" {
		version = devTag
	}
	return agentRepository + ":" + version
}
