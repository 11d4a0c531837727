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

// Command gen-chart-values writes the values table of a Helm chart's
// README.md from its values.yaml, helm-docs style: every key preceded by a
// "# -- description" comment is a row (key, type, default, description).
// A key without one must be a map whose keys all have one; anything else is
// an undocumented value and an error, so the table lists every value.
//
//	go run ./hack/gen-chart-values -chart charts/supportstack-operator [-check]
//
// The table replaces what lies between the README's "<!-- values:start -->"
// and "<!-- values:end -->" lines. With -check nothing is written, and the
// command fails when the README's table is not what it would write
// (test/generated/chart_test.go runs it so).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

const (
	startMarker = "<!-- values:start -->"
	endMarker   = "<!-- values:end -->"
	docPrefix   = "# --"
)

// row is one documented value.
type row struct {
	key, typ, def, desc string
}

func main() {
	chart := flag.String("chart", "charts/supportstack-operator", "the chart directory")
	check := flag.Bool("check", false, "write nothing; fail when README.md's values table is stale")
	flag.Parse()
	if err := run(*chart, *check); err != nil {
		fmt.Fprintln(os.Stderr, "gen-chart-values:", err)
		os.Exit(1)
	}
}

func run(chart string, check bool) error {
	values, err := os.ReadFile(filepath.Join(chart, "values.yaml"))
	if err != nil {
		return err
	}
	table, err := valuesTable(values)
	if err != nil {
		return err
	}
	readmePath := filepath.Join(chart, "README.md")
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		return err
	}
	updated, err := replaceTable(readme, table)
	if err != nil {
		return fmt.Errorf("%s: %w", readmePath, err)
	}
	if check {
		if !bytes.Equal(updated, readme) {
			return fmt.Errorf("%s: the values table is stale (values.yaml changed): run make chart", readmePath)
		}
		return nil
	}
	return os.WriteFile(readmePath, updated, 0o644)
}

// valuesTable renders the markdown table of values.yaml's documented keys,
// in the file's order.
func valuesTable(values []byte) (string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(values, &doc); err != nil {
		return "", err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return "", errors.New("values.yaml is not a map")
	}
	var rows []row
	if err := collect(doc.Content[0], "", &rows); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| Key | Type | Default | Description |\n|-----|------|---------|-------------|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.key, r.typ, r.def, r.desc)
	}
	return b.String(), nil
}

// collect appends a row for each documented key under the map node m
// (keys prefixed with prefix), recursing into undocumented maps.
func collect(m *yaml.Node, prefix string, rows *[]row) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := prefix + k.Value
		desc, documented := description(k.HeadComment)
		if !documented {
			if v.Kind != yaml.MappingNode || len(v.Content) == 0 {
				return fmt.Errorf("values.yaml:%d: %s has no %q description", k.Line, key, docPrefix)
			}
			if err := collect(v, key+".", rows); err != nil {
				return err
			}
			continue
		}
		typ, def, err := typeAndDefault(v)
		if err != nil {
			return fmt.Errorf("values.yaml:%d: %s: %w", k.Line, key, err)
		}
		*rows = append(*rows, row{key: key, typ: typ, def: def, desc: desc})
	}
	return nil
}

// description is the "# -- " comment of a key, its continuation lines
// joined with spaces; a comment above it that is not of the key (the
// file's header) is before the last "# --" and ignored.
func description(comment string) (string, bool) {
	lines := strings.Split(comment, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), docPrefix) {
			start = i
		}
	}
	if start < 0 {
		return "", false
	}
	parts := make([]string, 0, len(lines)-start)
	for i, l := range lines[start:] {
		l = strings.TrimSpace(l)
		if i == 0 {
			l = strings.TrimPrefix(l, docPrefix)
		} else {
			l = strings.TrimPrefix(l, "#")
		}
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.ReplaceAll(strings.Join(parts, " "), "|", `\|`), true
}

// typeAndDefault names the value's type as helm-docs does and shows its
// default as compact JSON in backticks.
func typeAndDefault(v *yaml.Node) (string, string, error) {
	var val any
	if err := v.Decode(&val); err != nil {
		return "", "", err
	}
	typ := "object"
	switch val.(type) {
	case string:
		typ = "string"
	case bool:
		typ = "bool"
	case int, int64, uint64:
		typ = "int"
	case float64:
		typ = "float"
	case []any:
		typ = "list"
	case nil:
		typ = "null"
	}
	def, err := json.Marshal(val)
	if err != nil {
		return "", "", err
	}
	return typ, "`" + strings.ReplaceAll(string(def), "|", `\|`) + "`", nil
}

// replaceTable puts table between the README's markers.
func replaceTable(readme []byte, table string) ([]byte, error) {
	s := string(readme)
	start := strings.Index(s, startMarker+"\n")
	end := strings.Index(s, endMarker)
	if start < 0 || end < start {
		return nil, fmt.Errorf("no %q line followed by a %q line", startMarker, endMarker)
	}
	start += len(startMarker) + 1
	return []byte(s[:start] + table + s[end:]), nil
}
