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

// Package agentapi is the contract between the operator and its agent, the
// program that runs in the backup, prune, check, restore and verify Job
// pods: the operation names, each operation's configuration (JSON in one
// argument; never a secret), the results the agent reports through the
// pod's termination message, their size limits and encoding, the manifests
// recorded at backup time, and the libpq URI rules both sides apply.
//
// Both the manager and the agent import it, so it must stay small and
// import neither a database driver nor anything that runs a program: the
// manager links it to read a termination message. It imports only the
// standard library.
package agentapi

import (
	"encoding/json"
	"fmt"
	"regexp"
)

// The agent's operations: the first argument of its command line, the
// value of the ops.supportstack.io/operation label, and the name of a
// drill's Jobs.
const (
	OperationBackup  = "backup"
	OperationPrune   = "prune"
	OperationCheck   = "check"
	OperationRestore = "restore"
	OperationVerify  = "verify"
)

// DrillConfig is the configuration of one of a drill's Jobs: RestoreConfig
// or VerifyConfig. Its operation is the agent's first argument.
type DrillConfig interface {
	Operation() string
}

// Operation is restore.
func (RestoreConfig) Operation() string { return OperationRestore }

// VerifyConfig is a verify Job's checks, run in order on the restored copy.
type VerifyConfig []VerifyCheck

// VerifyJob is a verify Job's configuration: its checks and, when every
// check passes, the recovery set to tag verified in the repository (prune
// never forgets the newest verified set).
type VerifyJob struct {
	Checks       VerifyConfig  `json:"checks"`
	MarkVerified *MarkVerified `json:"markVerified,omitempty"`
}

// MarkVerified names the snapshots a passing verification tags verified:
// every snapshot of the policy's recovery set, or, for snapshots taken
// before recovery sets, the restored snapshots by id.
type MarkVerified struct {
	Policy      string   `json:"policy"`
	RecoverySet string   `json:"recoverySet,omitempty"`
	Snapshots   []string `json:"snapshots,omitempty"`
}

// Operation is verify.
func (VerifyJob) Operation() string { return OperationVerify }

// ConfigFlag is the agent's flag that carries an operation's configuration.
const ConfigFlag = "config"

// Args is the agent's command line for an operation: the operation, then
// its configuration as JSON in ConfigFlag, with ContractVersion in its
// ContractField. config must marshal to a JSON object (the configurations
// are structs); anything else is a programming error and panics.
func Args(operation string, config any) []string {
	b, _ := json.Marshal(config) // the configurations are plain structs: marshalling cannot fail
	if len(b) == 0 || b[0] != '{' {
		panic(fmt.Sprintf("agentapi.Args: the %s configuration is %T, not a struct", operation, config))
	}
	return []string{operation, "--" + ConfigFlag, string(withContract(b))}
}

// ParseRestoreConfig reads a restore Job's configuration.
func ParseRestoreConfig(s string) (RestoreConfig, error) {
	var c RestoreConfig
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("restore configuration: %w", err)
	}
	return c, nil
}

// ParseVerifyConfig reads a verify Job's configuration. (The bare list of
// checks that operators before recovery sets wrote has no contract
// version: CheckContract refuses it.)
func ParseVerifyConfig(s string) (VerifyJob, error) {
	var c VerifyJob
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("verify configuration: %w", err)
	}
	return c, nil
}

// recoverySetName is what a recovery set's name may be: a pod's name, or a
// time with a random suffix (a DNS label, as restic tags allow it).
var recoverySetName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// snapshotID is a restic snapshot id, short or full.
var snapshotID = regexp.MustCompile(`^[0-9a-f]{8,64}$`)

// ValidRecoverySet reports whether s can be a recovery set's name: the
// operator checks what a pod reports before it records it or passes it on
// to another pod's restic.
func ValidRecoverySet(s string) bool { return len(s) <= 63 && recoverySetName.MatchString(s) }

// ValidSnapshotID reports whether s is a restic snapshot id (8 to 64 hex digits).
func ValidSnapshotID(s string) bool { return snapshotID.MatchString(s) }

// Repository tags that group a backup run's snapshots into a recovery set
// and mark the sets a drill proved restorable.
const (
	// RecoverySetTag prefixes the run's name: run=<recovery set>.
	RecoverySetTag = "run="
	// VerifiedTag marks every snapshot of a set whose drill checks passed.
	VerifiedTag = "verified"
	// RecoverySetEnv is the backup pod's variable naming its recovery set
	// (the Job's name, from the downward API); without it the agent names
	// the set after its start time.
	RecoverySetEnv = "SUPPORTSTACK_RECOVERY_SET"
)
