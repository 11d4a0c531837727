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

// Command supportstack is the SupportStack command line for people:
//
//	supportstack coverage -f team.yaml            a team's week from a manifest
//	supportstack coverage -n helpdesk windows-tier1   from the cluster (kubectl's flags and kubeconfig)
//	supportstack schedule train -f team.yaml [--top 5]  who to train in what
//	supportstack schedule propose -f team.yaml [-o yaml]  a proposed roster
//	supportstack verify-evidence -n helpdesk helpdesk-weekly [--public-key key.pem] [--expect-head SEQ:SHA256 | --no-head]
//	supportstack report [-n NS | -A] [--from DATE] [--to DATE] [--format json|csv|html] [--max-age 192h]
//	supportstack keygen --private drill.key --public drill.pub
//
// coverage prints the coming 7 days hour by hour: required versus scheduled
// staff per queue, gaps marked. schedule train sums those gaps per queue,
// says whether skills or people are missing, and ranks the (member, skill)
// pairs whose training closes the most of them. schedule propose solves a
// roster (package roster, via rosterplan) and prints the diff and figures,
// or the whole proposed SupportTeam for kubectl apply. verify-evidence walks a drill's evidence
// chain and names the first broken, forged or foreign record, and checks
// that the chain ends at the drill's evidence head (from the DRDrill's
// status, or --expect-head), so deleted newest records show; with neither
// it fails unless --no-head. report exports every drill's runs in a period
// from the evidence, for auditors, and per BackupPolicy the figures of its
// restore tests (verified-restore coverage, pass rate, missed schedules,
// objective compliance) mapped to ISO/IEC 27001:2022 A.8.13 and SOC 2
// A1.3, with the BackupPolicies no drill restores at 0 % and, apart and
// marked as read from the cluster, the missed schedule times still waiting
// in the DRDrills' status. It reads the cluster with the user's own
// credentials and must not import the reconcilers or the agent.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/coverage"
	"github.com/supportstack/operator/internal/evidence"
)

func main() {
	err := run(os.Args[1:], os.Stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
		// The subcommand's flags are printed; asking for them is no failure.
	case err != nil:
		fmt.Fprintln(os.Stderr, "supportstack:", err)
		os.Exit(1)
	}
}

const usageText = `usage:
  supportstack coverage [-f FILE | [-n NAMESPACE] NAME] [--at RFC3339]
  supportstack schedule train [-f FILE | [-n NAMESPACE] NAME] [--top N] [--at RFC3339]
  supportstack schedule propose [-f FILE | [-n NAMESPACE] NAME] [--weeks N] [-o table|yaml] [--time-limit 5s] [--seed N] [--at RFC3339]
  supportstack verify-evidence [-n NAMESPACE] DRILL [--public-key FILE] [--expect-head SEQ:SHA256 | --no-head]
  supportstack report [-n NAMESPACE | -A] [--from DATE] [--to DATE] [--format json|csv|html] [--public-key FILE] [--max-age DURATION]
  supportstack report team [-f FILE | [-n NAMESPACE] NAME] (--period day|week|month | --from DATE --to DATE) [--at RFC3339] [--format html|csv|json]
      [--tickets FILE | --rt-url URL --rt-token-file FILE]
  supportstack forecast [-f FILE | [-n NAMESPACE] NAME] [--weeks N] [--alpha A] [--at RFC3339] [--min-tickets N]
      [--tickets FILE | --rt-url URL --rt-token-file FILE]
  supportstack keygen --private FILE --public FILE
  supportstack completion bash|zsh

The commands that read the cluster take kubectl's flags: --kubeconfig FILE,
--context NAME, -n/--namespace NAMESPACE (default: the context's namespace),
--cluster, --user, -s/--server, --token, --as and the rest (see COMMAND -h).
Installed as kubectl-supportstack on PATH, it runs as "kubectl supportstack".`

// usage is the usage text under the name the CLI was run as.
func usage() string {
	return strings.ReplaceAll(usageText, "  supportstack ", "  "+progName()+" ")
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage())
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		_, err := fmt.Fprintln(out, usage())
		return err
	case "completion":
		return completionCmd(args[1:], out)
	case "coverage":
		return coverageCmd(args[1:], out)
	case "schedule":
		return scheduleCmd(args[1:], out)
	case "verify-evidence":
		return verifyEvidenceCmd(args[1:], out)
	case "report":
		return reportCmd(args[1:], out)
	case "keygen":
		return keygenCmd(args[1:], out)
	case "forecast":
		return forecastCmd(args[1:], out)
	}
	return errors.New(usage())
}

func readPublicKey(path string) (ed25519.PublicKey, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pub, err := evidence.ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("--public-key %s: %w", path, err)
	}
	return pub, nil
}

// verifyEvidenceCmd walks one drill's chain: every record bound to the
// drill (its namespace/name and, when the DRDrill can be read, its UID)
// and to its run, and the chain ending at the expected head. Without a
// head (the DRDrill deleted, or its status has none) and without
// --expect-head it fails, since deleted newest records would not show,
// unless --no-head asks to verify anyway.
func verifyEvidenceCmd(args []string, out io.Writer) error {
	fs := newFlagSet("verify-evidence")
	kube := kubeFlags(fs)
	keyFile := fs.String("public-key", "", "ed25519 public key (PEM, or the private key) to check signatures with; without it only hashes and links are checked")
	headFlag := fs.String("expect-head", "", "SEQUENCE:SHA256 of the newest record the chain must end with (e.g. as an auditor noted it earlier); default the DRDrill's status.evidenceHead")
	noHead := fs.Bool("no-head", false, "when there is no evidence head to check the chain's end against (no DRDrill, no --expect-head), verify anyway: the output says the end is unchecked")
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(names) != 1 {
		return errors.New("name one DRDrill: " + progName() + " verify-evidence [-n NAMESPACE] DRILL")
	}
	if *noHead && *headFlag != "" {
		return errors.New("give --expect-head SEQ:SHA256 or --no-head, not both")
	}
	pub, err := readPublicKey(*keyFile)
	if err != nil {
		return err
	}
	headFrom := "the --expect-head given"
	namespace, err := namespaceOf(kube)
	if err != nil {
		return err
	}
	drillName := namespace + "/" + names[0]
	want := evidence.Expect{Drill: drillName}
	if *headFlag != "" {
		if want.Head, err = parseHead(*headFlag); err != nil {
			return err
		}
	}
	c, err := newClient(kube)
	if err != nil {
		return err
	}
	ctx := context.Background()
	drill := &opsv1alpha1.DRDrill{}
	missing := "the DRDrill's status has no evidence head"
	switch err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: names[0]}, drill); {
	case apierrors.IsNotFound(err):
		missing = "the DRDrill is not found (deleted?), so its evidence head is gone"
	case err != nil:
		return fmt.Errorf("reading DRDrill %s for its UID and evidence head: %w (give --expect-head SEQ:SHA256 to verify without reading it)", drillName, err)
	default:
		want.DrillUID = string(drill.UID)
		if want.Head == nil && drill.Status.EvidenceHead != nil {
			want.Head, headFrom = evidence.HeadFromStatus(drill.Status.EvidenceHead), "the drill's evidence head"
		}
	}
	n, err := evidence.VerifyDrillWith(ctx, c, namespace, names[0], pub, want)
	if err != nil {
		return fmt.Errorf("drill %s: %w", drillName, err)
	}
	if want.Head == nil && !*noHead {
		return fmt.Errorf("drill %s: %d evidence records link up, but %s and no --expect-head was given, so newest records deleted would not show: "+
			"pass --expect-head SEQ:SHA256 from an earlier report or alert (the supportstack_drill_evidence_sequence metric, the DRDrill's status.evidenceHead as noted before), "+
			"or --no-head to accept a chain whose end is unchecked", drillName, n, missing)
	}
	signed := "signatures not checked (no --public-key)"
	if pub != nil {
		signed = "every record signed by the given key"
	}
	head := "END NOT CHECKED (--no-head): " + missing + ", so newest records deleted would not show"
	if want.Head != nil {
		head = fmt.Sprintf("ends at %s, sequence %d (sha256 %.12s)", headFrom, want.Head.Sequence, want.Head.SHA256)
	}
	_, err = fmt.Fprintf(out, "drill %s: %d evidence records, hash chain intact, %s, %s\n", drillName, n, signed, head)
	return err
}

// parseHead reads SEQUENCE:SHA256.
func parseHead(s string) (*evidence.Head, error) {
	seq, sum, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	if !ok || err != nil || n < 1 || len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("--expect-head %q: give SEQUENCE:SHA256, e.g. 12:%s", s, strings.Repeat("0f", 32))
	}
	return &evidence.Head{Sequence: n, SHA256: sum}, nil
}

// parseInterspersed parses flags before and after the positional
// arguments (the flag package stops at the first one) and returns those.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// reportCmd exports the drills' runs of a period.
func reportCmd(args []string, out io.Writer) error {
	if len(args) > 0 && args[0] == "team" {
		return teamReportCmd(args[1:], out)
	}
	fs := newFlagSet("report")
	kube := kubeFlags(fs)
	all := fs.Bool("A", false, "report on every namespace")
	fs.BoolVar(all, "all-namespaces", false, "report on every namespace (long for -A)")
	fromFlag := fs.String("from", "", "start of the period (YYYY-MM-DD or RFC 3339); default 90 days ago")
	toFlag := fs.String("to", "", "end of the period, exclusive (YYYY-MM-DD or RFC 3339); default now")
	format := fs.String("format", "html", "json, csv or html")
	keyFile := fs.String("public-key", "", "ed25519 public key to check signatures with")
	maxAgeFlag := fs.Duration("max-age", evidence.DefaultMaxAge, "how long a passed run proves a BackupPolicy's backups restorable, for a policy whose spec.verification.maxAge cannot be read from the cluster")
	if err := fs.Parse(args); err != nil {
		return err
	}
	namespace := *kube.Namespace
	if *all == (namespace != "") {
		return errors.New("give -n NAMESPACE or -A")
	}
	to, err := parseDay(*toFlag, time.Now())
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	from, err := parseDay(*fromFlag, to.AddDate(0, 0, -90))
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	if !from.Before(to) {
		return fmt.Errorf("--from %s is not before --to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	pub, err := readPublicKey(*keyFile)
	if err != nil {
		return err
	}
	write := map[string]func(evidence.Export, io.Writer) error{
		"json": evidence.Export.WriteJSON, "csv": evidence.Export.WriteCSV, "html": evidence.Export.WriteHTML,
	}[*format]
	if write == nil {
		return fmt.Errorf("--format %q: use json, csv or html", *format)
	}
	c, err := newClient(kube)
	if err != nil {
		return err
	}
	flagSource := fmt.Sprintf("--max-age %s", *maxAgeFlag)
	if !flagGiven(fs, "max-age") {
		flagSource += " (the default)"
	}
	cluster := readPolicies(c, namespace, *maxAgeFlag, flagSource)
	readDrills(c, namespace, &cluster)
	export, err := evidence.CollectWith(context.Background(), c, namespace, from, to, pub, cluster)
	if err != nil {
		return err
	}
	return write(export, out)
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// readPolicies lists the BackupPolicies in namespace (all when empty)
// with the user's credentials: the policies in scope, so one no drill
// restores is reported too, and each one's maxAge as its spec (as it is
// now) sets it. A policy that cannot be read (no right to list them, or
// deleted) takes the flag's value, and the source says which and why;
// without the right to list them the export says what it lacks.
func readPolicies(c client.Reader, namespace string, flagValue time.Duration, flagSource string) evidence.ClusterView {
	var policies opsv1alpha1.BackupPolicyList
	var opts []client.ListOption
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	if err := c.List(context.Background(), &policies, opts...); err != nil {
		why := fmt.Sprintf("%s: the BackupPolicies could not be read (%v)", flagSource, err)
		notRead := fmt.Sprintf("BackupPolicies (%v): a policy no drill restores cannot be listed, and every policy's maxAge is %s", err, flagSource)
		fmt.Fprintf(os.Stderr, "supportstack: %s\n", notRead)
		return evidence.ClusterView{MaxAge: func(string) (time.Duration, string) { return flagValue, why }, NotRead: []string{notRead}}
	}
	byName := map[string]*opsv1alpha1.BackupPolicy{}
	names := make([]string, 0, len(policies.Items))
	for i := range policies.Items {
		p := &policies.Items[i]
		byName[p.Namespace+"/"+p.Name] = p
		names = append(names, p.Namespace+"/"+p.Name)
	}
	maxAge := func(policy string) (time.Duration, string) {
		p, ok := byName[policy]
		switch {
		case !ok:
			return flagValue, fmt.Sprintf("%s: BackupPolicy %s not found in the cluster", flagSource, policy)
		case p.Spec.Verification.MaxAge == nil:
			return evidence.DefaultMaxAge, fmt.Sprintf("BackupPolicy %s: spec.verification.maxAge unset, its default %s", policy, evidence.DefaultMaxAge)
		}
		return p.Spec.Verification.MaxAge.Duration, fmt.Sprintf("BackupPolicy %s spec.verification.maxAge, as it is now", policy)
	}
	return evidence.ClusterView{MaxAge: maxAge, Policies: names}
}

// readDrills lists the DRDrills in namespace (all when empty) that the
// user may list into cluster: their UIDs and evidence heads, so the export
// shows truncated chains, and the policy each names now with the missed
// schedule times its status still holds (no run has carried them into
// evidence yet). Without that right, and for a drill whose DRDrill is
// gone, the export says each chain's end is not checked, and that no
// pending times are counted.
func readDrills(c client.Reader, namespace string, cluster *evidence.ClusterView) {
	var drills opsv1alpha1.DRDrillList
	var opts []client.ListOption
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	if err := c.List(context.Background(), &drills, opts...); err != nil {
		notRead := fmt.Sprintf("DRDrills (%v): evidence heads not checked, and the missed schedule times their status still holds are not counted", err)
		fmt.Fprintf(os.Stderr, "supportstack: %s\n", notRead)
		cluster.NotRead = append(cluster.NotRead, notRead)
		return
	}
	cluster.Expect = map[string]evidence.Expect{}
	cluster.Drills = make([]evidence.ClusterDrill, 0, len(drills.Items))
	for _, d := range drills.Items {
		name := d.Namespace + "/" + d.Name
		cluster.Expect[name] = evidence.Expect{DrillUID: string(d.UID), Head: evidence.HeadFromStatus(d.Status.EvidenceHead)}
		missed := make([]time.Time, 0, len(d.Status.MissedSchedules))
		for _, t := range d.Status.MissedSchedules {
			missed = append(missed, t.Time)
		}
		cluster.Drills = append(cluster.Drills, evidence.ClusterDrill{Drill: name, Policy: d.Namespace + "/" + d.Spec.BackupPolicyName,
			MissedSchedules: missed, MissedDropped: d.Status.MissedSchedulesDropped})
	}
}

func parseDay(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

func coverageCmd(args []string, out io.Writer) error {
	fs := newFlagSet("coverage")
	file := fs.String("f", "", "read the SupportTeam from this YAML file instead of the cluster")
	kube := kubeFlags(fs)
	at := fs.String("at", "", "start of the week to show (RFC 3339); default now")
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	now := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fmt.Errorf("--at: %w", err)
		}
		now = t
	}
	team, err := loadTeam(*file, kube, names)
	if err != nil {
		return err
	}
	model, err := coverage.FromSpec(team.SpecInUse())
	if err != nil {
		return err
	}
	result, err := coverage.Compute(model, now)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(out, "SupportTeam %s: %d members, %d on shift now\n\n", team.Name, result.Headcount, result.OnShiftNow); err != nil {
		return err
	}
	return coverage.WriteHourly(out, model, result)
}

// loadTeam reads the SupportTeam from file, or else the one named in rest
// from the cluster and namespace of the kubectl flags.
func loadTeam(file string, kube genericclioptions.RESTClientGetter, rest []string) (*opsv1alpha1.SupportTeam, error) {
	team := &opsv1alpha1.SupportTeam{}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var kind metav1.TypeMeta
		if err := yaml.Unmarshal(data, &kind); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if kind.Kind != "SupportTeam" {
			return nil, fmt.Errorf("%s holds a %q, not a SupportTeam", file, kind.Kind)
		}
		if err := yaml.UnmarshalStrict(data, team); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return team, nil
	}
	if len(rest) != 1 {
		return nil, errors.New("name one SupportTeam, or give -f FILE")
	}
	namespace, err := namespaceOf(kube)
	if err != nil {
		return nil, err
	}
	c, err := newClient(kube)
	if err != nil {
		return nil, err
	}
	err = c.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: rest[0]}, team)
	return team, err
}

// keygenCmd writes a new ed25519 signing key (PEM PKCS#8, for the Secret a
// DRDrill's evidence.signingKeySecretRef names) and its public key (PEM,
// for verify-evidence and report).
func keygenCmd(args []string, out io.Writer) error {
	fs := newFlagSet("keygen")
	private := fs.String("private", "", "where to write the private key (mode 0600)")
	public := fs.String("public", "", "where to write the public key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *private == "" || *public == "" {
		return errors.New("give --private FILE and --public FILE")
	}
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*private, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(*public, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "wrote %s and %s\n", *private, *public)
	return err
}
