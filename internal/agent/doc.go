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

// Package agent is what runs inside the backup, prune, check, restore and
// verify Job pods. It drives the standard tools (pg_dump, pg_restore,
// restic) with argument lists, never a shell line, records a manifest of
// what was backed up, and reports a small JSON result through the pod's
// termination message.
//
// What it is given and what it reports is the contract in package agentapi.
// The operator imports that package and never this one, which links a
// database driver and runs programs; nothing here may import the operator's
// packages (api, controller, resources).
package agent
