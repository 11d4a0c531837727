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

package agentapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
)

// ContractVersion is the version of this contract: the shapes of the
// configurations Args writes and of the results the agent reports. Bump it
// on any change one side cannot read from the other side's previous
// version (a field renamed, removed or given a new meaning, a new
// operation, a required field); a field the other side may ignore does not
// need it. TestContractShape fails on any change of the shapes, to make
// that decision explicit.
//
// Every configuration Args writes carries it in ContractField; the agent
// runs no configuration of another version (CheckContract). Whatever the
// version, these stay as they are, so that a refusal is understood by a
// manager of any version: the command line "<operation> --config <JSON
// object>", the ContractField member of that object, the operation,
// succeeded and error members of the result (drillError for restore and
// verify), and the refusal's sentence (ContractError.Error).
const ContractVersion = 1

// ContractField is the configuration's member holding its contract version.
const ContractField = "contractVersion"

// ExitContractMismatch is the agent's exit code when it refuses a
// configuration of another contract version (1 is a failed operation, 2 a
// command line it cannot read).
const ExitContractMismatch = 3

// ContractError is the agent's refusal of a configuration written for
// another contract version: the manager and the agent come from different
// builds.
type ContractError struct {
	// Agent is the agent's ContractVersion; Config the configuration's,
	// 0 when it has none (a manager from before contract versions).
	Agent, Config int
}

// Error is one line for the owner's status: what differs, why, and what
// to do. Its start is matched by IsContractMismatch: keep both in step.
func (e *ContractError) Error() string {
	config := fmt.Sprintf("a config of contract v%d", e.Config)
	if e.Config == 0 {
		config = "a config without a contract version"
	}
	return fmt.Sprintf("agent contract v%d cannot run %s: the manager and agent images are different versions; "+
		"deploy them together (make deploy sets both from VERSION)", e.Agent, config)
}

// contractRefusal matches the start of every ContractError, of any agent
// version.
var contractRefusal = regexp.MustCompile(`^agent contract v[0-9]+ cannot run a config `)

// IsContractMismatch reports whether an agent's error line (a result's
// Error, as the manager records it) is a ContractError.
func IsContractMismatch(message string) bool { return contractRefusal.MatchString(message) }

// withContract returns the JSON object b with ContractField first: the
// manager's configurations are structs, so b is always an object.
func withContract(b []byte) []byte {
	head := `{"` + ContractField + `":` + strconv.Itoa(ContractVersion)
	rest := bytes.TrimSpace(b[1:])
	if len(rest) > 0 && rest[0] != '}' {
		head += ","
	}
	return append([]byte(head), rest...)
}

// CheckContract returns a *ContractError when config, an agent
// configuration, was not written for ContractVersion: its ContractField is
// missing, is not a number, or differs, or it is JSON but not an object
// (the bare list of checks verify configurations once were). A config that
// is not JSON at all is left to the operation's parser, which says where it
// breaks.
func CheckContract(config string) error {
	if !json.Valid([]byte(config)) {
		return nil
	}
	var members map[string]json.RawMessage
	got := 0
	if json.Unmarshal([]byte(config), &members) == nil {
		if v, err := strconv.Atoi(string(members[ContractField])); err == nil {
			got = v
		}
	}
	if got != ContractVersion {
		return &ContractError{Agent: ContractVersion, Config: got}
	}
	return nil
}

// ConfigPolicy is the policy a configuration names, for a refusal's
// result; "" when it names none.
func ConfigPolicy(config string) string {
	var c struct {
		Policy string `json:"policy"`
	}
	_ = json.Unmarshal([]byte(config), &c) // best effort: the result is a refusal either way
	return c.Policy
}
