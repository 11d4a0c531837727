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

package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	var err error
	env, err = testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping envtest:", err)
	}
	os.Exit(code)
}

// newNamespace creates a namespace for one test so tests never see each other's objects.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "validation-"}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return ns.Name
}

// readSamples decodes the samples in config/samples, one per kind.
func readSamples(t *testing.T) map[string]*unstructured.Unstructured {
	t.Helper()
	objs, err := testenv.ReadObjects(filepath.Join(testenv.RepoRoot(), "config", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	samples := map[string]*unstructured.Unstructured{}
	for _, u := range objs {
		samples[u.GetKind()] = u
	}
	for _, kind := range []string{"SupportTeam", "BackupPolicy", "DRDrill"} {
		if samples[kind] == nil {
			t.Fatalf("config/samples has no %s", kind)
		}
	}
	return samples
}

// TestSamplesAccepted applies every sample and reads it back through the Go
// types, so a sample that the API server accepts but our types cannot decode
// (a bad duration, say) also fails.
func TestSamplesAccepted(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	for kind, u := range readSamples(t) {
		t.Run(kind, func(t *testing.T) {
			u.SetNamespace(ns)
			if err := env.Client.Create(ctx, u); err != nil {
				t.Fatalf("sample %s/%s refused: %v", kind, u.GetName(), err)
			}
			typed, err := env.Client.Scheme().New(u.GroupVersionKind())
			if err != nil {
				t.Fatal(err)
			}
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(u), typed.(client.Object)); err != nil {
				t.Fatalf("reading %s back through the Go types: %v", kind, err)
			}
		})
	}
}

// TestDefaults checks the defaults the API server fills in.
func TestDefaults(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	samples := readSamples(t)

	drill := samples["DRDrill"].DeepCopy()
	drill.SetNamespace(ns)
	unstructured.RemoveNestedField(drill.Object, "spec", "sandbox")
	unstructured.RemoveNestedField(drill.Object, "spec", "snapshot")
	unstructured.RemoveNestedField(drill.Object, "spec", "historyLimit")
	unstructured.RemoveNestedField(drill.Object, "spec", "timeZone")
	if err := env.Client.Create(ctx, drill); err != nil {
		t.Fatal(err)
	}
	var got opsv1alpha1.DRDrill
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(drill), &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Snapshot != "latest" || got.Spec.Sandbox.Keep != opsv1alpha1.SandboxKeepOnFailure ||
		got.Spec.Sandbox.PostgresImage != "postgres:15" || got.Spec.TimeZone != "UTC" ||
		got.Spec.HistoryLimit.Passed != 12 || got.Spec.HistoryLimit.Failed != 12 {
		t.Errorf("DRDrill defaults not applied: %+v", got.Spec)
	}

	team := samples["SupportTeam"].DeepCopy()
	team.SetNamespace(ns)
	unstructured.RemoveNestedField(team.Object, "spec", "shrinkage")
	unstructured.RemoveNestedField(team.Object, "spec", "tier")
	if err := env.Client.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	var st opsv1alpha1.SupportTeam
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(team), &st); err != nil {
		t.Fatal(err)
	}
	if st.Spec.Shrinkage != 30 || st.Spec.Tier != 1 || st.Spec.Members[1].Role != opsv1alpha1.RoleSpecialist {
		t.Errorf("SupportTeam defaults not applied: shrinkage=%d tier=%d role=%q",
			st.Spec.Shrinkage, st.Spec.Tier, st.Spec.Members[1].Role)
	}
}

// set writes value at a dotted path; numeric segments index lists.
func set(path string, value any) func(map[string]any) {
	return func(obj map[string]any) { walk(obj, strings.Split(path, "."), value, false) }
}

// del removes the field at a dotted path.
func del(path string) func(map[string]any) {
	return func(obj map[string]any) { walk(obj, strings.Split(path, "."), nil, true) }
}

func walk(node any, path []string, value any, remove bool) {
	last := len(path) == 1
	switch n := node.(type) {
	case map[string]any:
		if last {
			if remove {
				delete(n, path[0])
			} else {
				n[path[0]] = value
			}
			return
		}
		child, ok := n[path[0]]
		if !ok {
			child = map[string]any{}
			n[path[0]] = child
		}
		walk(child, path[1:], value, remove)
	case []any:
		i, err := strconv.Atoi(path[0])
		if err != nil || i >= len(n) {
			panic(fmt.Sprintf("bad list index %q", path[0]))
		}
		if last {
			n[i] = value
			return
		}
		walk(n[i], path[1:], value, remove)
	default:
		panic(fmt.Sprintf("cannot walk into %T at %q", node, path[0]))
	}
}

// appendTo appends value to the list at a dotted path.
func appendTo(path string, value any) func(map[string]any) {
	return func(obj map[string]any) {
		parts := strings.Split(path, ".")
		var parent any = obj
		for _, p := range parts[:len(parts)-1] {
			switch n := parent.(type) {
			case map[string]any:
				parent = n[p]
			case []any:
				i, _ := strconv.Atoi(p)
				parent = n[i]
			}
		}
		m := parent.(map[string]any)
		key := parts[len(parts)-1]
		list, _ := m[key].([]any)
		m[key] = append(list, value)
	}
}

type badCase struct {
	name    string
	kind    string
	mutate  []func(map[string]any)
	message string // a substring the refusal must contain
}

func badCases() []badCase {
	const (
		team   = "SupportTeam"
		policy = "BackupPolicy"
		drill  = "DRDrill"
	)
	fns := func(f ...func(map[string]any)) []func(map[string]any) { return f }
	return []badCase{
		// SupportTeam
		{"unknown time zone", team, fns(set("spec.timeZone", "Mars/Olympus")), "must be an IANA time zone name"},
		{"Local is not a zone", team, fns(set("spec.timeZone", "Local")), "must be an IANA time zone name"},
		{"offset is not a zone name", team, fns(set("spec.timeZone", "+05:00")), "must be an IANA time zone name"},
		{"shrinkage over 90", team, fns(set("spec.shrinkage", int64(95))), "spec.shrinkage: Invalid value: 95: spec.shrinkage in body should be less than or equal to 90"},
		{"tier 0", team, fns(set("spec.tier", int64(0))), "should be greater than or equal to 1"},
		{"shift time without leading zero", team, fns(set("spec.shifts.0.start", "7:00")), "must be a 24-hour time HH:MM"},
		{"shift hour 25", team, fns(set("spec.shifts.0.end", "25:00")), "must be a 24-hour time HH:MM"},
		{"shift starts at 24:00", team, fns(set("spec.shifts.0.start", "24:00")), "a shift cannot start at 24:00"},
		{"shift of zero length", team, fns(set("spec.shifts.0.end", "07:00")), "a shift's start and end must differ"},
		{"unknown weekday", team, fns(set("spec.shifts.0.days", []any{"Mon", "Funday"})), `Unsupported value: "Funday"`},
		{"duplicate member", team, fns(appendTo("spec.members", map[string]any{"name": "alice"})), `spec.members[5]: Duplicate value: {"name":"alice"}`},
		{"member on undeclared shift", team, fns(set("spec.members.0.shifts", []any{"night"})), "every name in members[].shifts must be one of spec.shifts[].name"},
		{"time off for a stranger", team, fns(set("spec.timeOff.0.member", "zoe")), "every timeOff[].member must be one of spec.members[].name"},
		{"time off ends before it starts", team, fns(set("spec.timeOff.0.to", "2026-12-20")), "timeOff.to must be on or after timeOff.from"},
		{"February 30th", team, fns(set("spec.holidays.0.date", "2026-02-30")), "must be a calendar date YYYY-MM-DD"},
		{"month 13", team, fns(set("spec.holidays.0.date", "2026-13-01")), "must be a calendar date YYYY-MM-DD"},
		{"Feb 29 in a common year", team, fns(set("spec.timeOff.0.from", "2027-02-29"), set("spec.timeOff.0.to", "2027-03-01")), "must be a calendar date YYYY-MM-DD"},
		{"queue escalates to itself", team, fns(set("spec.queues.0.escalation.toQueue", "windows-phone")), "a queue cannot escalate to itself"},
		{"queue escalates to itself through its own team", team, fns(set("spec.queues.0.escalation.toTeam", "$NAME"), set("spec.queues.0.escalation.toQueue", "windows-phone")), "a queue cannot escalate to itself: escalation.toTeam names this team"},
		{"escalation to a missing queue", team, fns(set("spec.queues.0.escalation.toQueue", "nowhere")), "must name another queue of this team in toQueue"},
		{"phone queue without service level", team, fns(del("spec.queues.0.serviceLevel")), "Phone and Chat queues need serviceLevel"},
		{"email queue without response targets", team, fns(del("spec.queues.1.responseTargets")), "Email and Portal queues need responseTargets"},
		{"demand from history without Request Tracker", team, fns(set("spec.queues.0.demand.source", "History")), "demand.source History forecasts from the queue's tickets in Request Tracker: set queueBackend.requestTracker"},
		{"unknown demand source", team, fns(set("spec.queues.0.demand.source", "Guess")), `Unsupported value: "Guess"`},
		{"service level over 100 percent", team, fns(set("spec.queues.0.serviceLevel.percent", int64(150))), "should be less than or equal to 100"},
		{"no patience at all", team, fns(set("spec.queues.0.serviceLevel.patience", "0s")), "patience must be between 1s and 2h"},
		{"patience of a day", team, fns(set("spec.queues.0.serviceLevel.patience", "24h")), "patience must be between 1s and 2h"},
		{"patience in words", team, fns(set("spec.queues.0.serviceLevel.patience", "2 minutes")), "must be a duration such as 20s, 30m, 4h or 1h30m"},
		{"handle time in words", team, fns(set("spec.queues.0.demand.averageHandleTime", "3 minutes")), "must be a duration such as 20s, 30m, 4h or 1h30m"},
		{"resolution in days", team, fns(set("spec.queues.1.responseTargets.resolution", "2d")), "no days: write 48h for 2 days"},
		{"demand window across midnight", team, fns(set("spec.queues.0.demand.intervals.0.from", "18:00"), set("spec.queues.0.demand.intervals.0.to", "08:00")), "a demand interval's to must be after from"},
		{"demand window off the half hour", team, fns(set("spec.queues.0.demand.intervals.0.from", "08:15")), "30-minute resolution: from must end in :00 or :30"},
		{"negative demand", team, fns(set("spec.queues.0.demand.intervals.0.contactsPerHour", int64(-5))), "should be greater than or equal to 0"},
		{"bad e-mail", team, fns(set("spec.members.0.email", "alice")), "must be an e-mail address"},
		{"unknown role", team, fns(set("spec.members.0.role", "Boss")), `Unsupported value: "Boss"`},
		{"unknown channel", team, fns(set("spec.queues.0.channel", "Fax")), `Unsupported value: "Fax"`},
		{"queue without skills", team, fns(set("spec.queues.0.skills", []any{})), "should have at least 1 items"},
		{"two queue backends", team, fns(set("spec.queueBackend", map[string]any{"configMap": map[string]any{}, "requestTracker": map[string]any{"url": "https://rt.example.com", "tokenSecretRef": map[string]any{"name": "rt", "key": "token"}}})), "set only one queue backend"},
		{"request tracker url not http", team, fns(set("spec.queueBackend", map[string]any{"requestTracker": map[string]any{"url": "ftp://rt.example.com", "tokenSecretRef": map[string]any{"name": "rt", "key": "token"}}})), "must be an http(s) URL"},
		{"member name not a DNS label", team, fns(set("spec.members.0.name", "Alice Smith"), set("spec.timeOff.0.member", "Alice Smith")), "spec.members[0].name in body should match"},

		// BackupPolicy
		{"policy name longer than its CronJobs allow", policy, fns(set("metadata.name", strings.Repeat("a", 46))), "metadata.name: at most 45 characters"},
		{"cron with four fields", policy, fns(set("spec.schedule", "0 2 * *")), "must be a 5-field cron expression"},
		{"cron minute 61", policy, fns(set("spec.schedule", "61 2 * * *")), "minute 0-59, hour 0-23"},
		{"cron hour 24", policy, fns(set("spec.schedule", "0 24 * * *")), "must be a 5-field cron expression"},
		{"cron with TZ prefix", policy, fns(set("spec.schedule", "TZ=UTC 0 2 * * *")), "must be a 5-field cron expression"},
		{"check cron day 32", policy, fns(set("spec.check.schedule", "0 4 32 * *")), "must be a 5-field cron expression"},
		{"backup time zone unknown", policy, fns(set("spec.timeZone", "Europe/Atlantis")), "must be an IANA time zone name"},
		{"retention without rules", policy, fns(set("spec.retention", map[string]any{})), "retention needs at least one keep rule"},
		{"keepLast zero", policy, fns(set("spec.retention.keepLast", int64(0))), "should be greater than or equal to 1"},
		{"no sources", policy, fns(set("spec.sources", map[string]any{})), "sources needs at least one postgres database or volume"},
		{"source names clash", policy, fns(set("spec.sources.volumes.0.name", "tickets")), "source names must be unique across sources.postgres and sources.volumes"},
		{"postgres source without databases", policy, fns(set("spec.sources.postgres.0.databases", []any{})), "should have at least 1 items"},
		{"repository url not restic", policy, fns(set("spec.repository.url", "ftp://backup.example.com/x")), "must be a restic repository URL"},
		{"relative repository path", policy, fns(set("spec.repository.url", "backups/helpdesk")), "must be a restic repository URL"},
		{"rpo in words", policy, fns(set("spec.objectives.rpo", "1 day")), "must be a duration such as"},
		{"read data over 100 percent", policy, fns(set("spec.check.readDataPercent", int64(101))), "should be less than or equal to 100"},
		{"missing repository", policy, fns(del("spec.repository")), `spec.repository: Required value`},
		{"password without key", policy, fns(del("spec.repository.passwordSecretRef.key")), `spec.repository.passwordSecretRef.key: Required value`},

		// DRDrill
		{"sandbox is the source namespace", drill, fns(set("spec.sandbox.namespace", "$NAMESPACE")), "spec.sandbox.namespace must not be validation-"},
		{"check with two kinds", drill, fns(set("spec.checks.0.files", map[string]any{"volume": "attachments"})), "a check needs exactly one of sql, compareManifest, files, referencedFiles or requestTracker"},
		{"check with no kind", drill, fns(set("spec.checks.0", map[string]any{"name": "empty"})), "a check needs exactly one of sql, compareManifest, files, referencedFiles or requestTracker"},
		{"sql and referencedFiles", drill, fns(set("spec.checks.0.referencedFiles", map[string]any{"volume": "attachments", "sql": "SELECT path FROM attachments"})), "a check needs exactly one of sql, compareManifest, files, referencedFiles or requestTracker"},
		{"files and referencedFiles", drill, fns(set("spec.checks.2.referencedFiles", map[string]any{"volume": "attachments", "sql": "SELECT path FROM attachments"})), "a check needs exactly one of sql, compareManifest, files, referencedFiles or requestTracker"},
		{"referencedFiles without sql", drill, fns(set("spec.checks.2", map[string]any{"name": "attachments", "referencedFiles": map[string]any{"volume": "attachments"}})), "spec.checks[2].referencedFiles.sql: Required value"},
		{"referencedFiles without volume", drill, fns(set("spec.checks.2", map[string]any{"name": "attachments", "referencedFiles": map[string]any{"volume": "", "sql": "SELECT path FROM attachments"}})), "spec.checks[2].referencedFiles.volume in body should be at least 1 chars long"},
		{"sql and requestTracker", drill, fns(set("spec.checks.0.requestTracker", map[string]any{})), "a check needs exactly one of sql, compareManifest, files, referencedFiles or requestTracker"},
		{"two requestTracker checks", drill, fns(set("spec.checks.0", map[string]any{"name": "rt-a", "requestTracker": map[string]any{}}), set("spec.checks.1", map[string]any{"name": "rt-b", "requestTracker": map[string]any{}})), "at most one requestTracker check: a verify pod runs one Request Tracker"},
		{"attachments sampled without their volume", drill, fns(set("spec.checks.0", map[string]any{"name": "rt", "requestTracker": map[string]any{"sampleAttachments": int64(3)}})), "sampleAttachments needs attachmentsVolume"},
		{"attachments sampled by the thousand", drill, fns(set("spec.checks.0", map[string]any{"name": "rt", "requestTracker": map[string]any{"attachmentsVolume": "attachments", "sampleAttachments": int64(1000)}})), "should be less than or equal to 100"},
		{"sql without expectation", drill, fns(del("spec.checks.0.expect")), "an sql check needs database and expect"},
		{"empty expectation", drill, fns(set("spec.checks.0.expect", map[string]any{})), "expect needs at least one of min, max or equals"},
		{"min above max", drill, fns(set("spec.checks.0.expect", map[string]any{"min": int64(10), "max": int64(1)})), "expect.min must not be greater than expect.max"},
		{"snapshot neither latest, a set nor an id", drill, fns(set("spec.snapshot", "Latest/1")), `snapshot must be "latest", a recovery set name`},
		{"snapshot id shorter than 8 digits", drill, fns(set("spec.snapshot", "abc")), `snapshot must be "latest", a recovery set name`},
		{"unknown keep policy", drill, fns(set("spec.sandbox.keep", "Sometimes")), `Unsupported value: "Sometimes"`},
		{"negative history", drill, fns(set("spec.historyLimit.passed", int64(-1))), "should be greater than or equal to 0"},
		{"tolerance over 100", drill, fns(set("spec.checks.1.compareManifest.tolerancePercent", int64(200))), "should be less than or equal to 100"},
		{"objectives empty", drill, fns(set("spec.objectives", map[string]any{})), "objectives needs rto, rpo or both"},
		{"rto with a typo", drill, fns(set("spec.objectives.rto", "30mins")), "must be a duration such as"},
		{"drill cron on weekday 8", drill, fns(set("spec.schedule", "*/5 6 * * 8")), "must be a 5-field cron expression"},
		{"duplicate check names", drill, fns(set("spec.checks.1.name", "tickets-present")), "Duplicate value"},
	}
}

// TestBadManifestsRefused applies each bad manifest and asserts that the API
// server refuses it with the message a user needs to fix it.
func TestBadManifestsRefused(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	samples := readSamples(t)
	cases := badCases()
	if len(cases) < 30 {
		t.Fatalf("only %d bad manifests: the API contract asks for at least 30", len(cases))
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := samples[tc.kind].DeepCopy()
			u.SetNamespace(ns)
			u.SetName(fmt.Sprintf("bad-%d", i))
			for _, m := range tc.mutate {
				m(u.Object)
			}
			substitute(u.Object, map[string]string{"$NAMESPACE": ns, "$NAME": u.GetName()})
			err := env.Client.Create(ctx, u, client.DryRunAll)
			// A ValidatingAdmissionPolicy takes effect a moment after it is
			// created; give it that moment rather than racing it.
			for deadline := time.Now().Add(10 * time.Second); err == nil && time.Now().Before(deadline); {
				time.Sleep(200 * time.Millisecond)
				err = env.Client.Create(ctx, u, client.DryRunAll)
			}
			if err == nil {
				t.Fatalf("accepted, want refusal containing %q", tc.message)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("refused with\n  %v\nwant a message containing\n  %q", err, tc.message)
			}
			t.Logf("refused: %v", err)
		})
	}
}

// substitute replaces placeholder strings ($NAMESPACE, $NAME) with the
// object's actual namespace and name, known only when the case runs.
func substitute(node any, values map[string]string) {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if s, ok := v.(string); ok && values[s] != "" {
				n[k] = values[s]
				continue
			}
			substitute(v, values)
		}
	case []any:
		for _, v := range n {
			substitute(v, values)
		}
	}
}

// TestDrillRunSpecImmutable creates a run and shows that changing its spec is refused.
func TestDrillRunSpecImmutable(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	run := &opsv1alpha1.DRDrillRun{
		ObjectMeta: metav1.ObjectMeta{Name: "helpdesk-weekly-1", Namespace: ns},
		Spec: opsv1alpha1.DRDrillRunSpec{
			DrillName:      "helpdesk-weekly",
			DrillProcedure: opsv1alpha1.DrillProcedure{BackupPolicyName: "helpdesk"},
		},
	}
	if err := env.Client.Create(ctx, run); err != nil {
		t.Fatal(err)
	}
	if run.Spec.Snapshot != "latest" {
		t.Errorf("snapshot default = %q, want latest", run.Spec.Snapshot)
	}
	run.Spec.Snapshot = "0557d900"
	err := env.Client.Update(ctx, run)
	const want = "a DRDrillRun's spec is immutable: create a new run"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("update of spec: got %v, want refusal containing %q", err, want)
	}
	t.Logf("refused: %v", err)

	// Status stays writable through the status subresource.
	var fresh opsv1alpha1.DRDrillRun
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(run), &fresh); err != nil {
		t.Fatal(err)
	}
	fresh.Status.Phase = opsv1alpha1.DrillRunPending
	if err := env.Client.Status().Update(ctx, &fresh); err != nil {
		t.Fatalf("status update refused: %v", err)
	}

	bad := &opsv1alpha1.DRDrillRun{
		ObjectMeta: metav1.ObjectMeta{Name: "sandbox-here", Namespace: ns},
		Spec: opsv1alpha1.DRDrillRunSpec{
			DrillName: "helpdesk-weekly",
			DrillProcedure: opsv1alpha1.DrillProcedure{
				BackupPolicyName: "helpdesk",
				Sandbox:          opsv1alpha1.Sandbox{Namespace: ns},
			},
		},
	}
	err = env.Client.Create(ctx, bad)
	for deadline := time.Now().Add(10 * time.Second); err == nil && time.Now().Before(deadline); {
		_ = env.Client.Delete(ctx, bad)
		time.Sleep(200 * time.Millisecond)
		bad.ResourceVersion = ""
		err = env.Client.Create(ctx, bad)
	}
	wantNS := "spec.sandbox.namespace must not be " + ns + ", the namespace of this DRDrillRun"
	if err == nil || !strings.Contains(err.Error(), wantNS) {
		t.Fatalf("run with sandbox in its own namespace: got %v, want %q", err, wantNS)
	}
}

// TestRequestTrackerURLMustBeHTTPS: the RT token travels in every request,
// so its URL is https; plain http is accepted for loopback hosts only (the
// tests' private RT), and hosts that only look like loopback are refused.
func TestRequestTrackerURLMustBeHTTPS(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	team := readSamples(t)["SupportTeam"]
	const refusal = "must be an https URL such as https://rt.example.com: the RT token would travel in the clear over http, " +
		"which is accepted only for a loopback host (localhost, 127.0.0.0/8, [::1]) in tests"
	for i, tc := range []struct {
		url     string
		refused string // "" when accepted
	}{
		{"https://rt.example.com", ""},
		{"https://10.0.0.7:8443/rt", ""},
		{"http://127.0.0.1:8080", ""},
		{"http://127.8.0.1", ""},
		{"http://localhost:8080/rt", ""},
		{"http://[::1]:8080", ""},
		{"http://rt.example.com", refusal},
		{"http://10.0.0.7:8080", refusal},
		{"http://localhost.example.com", refusal},
		{"http://127.0.0.1.nip.io", refusal},
		{"http://[::ffff:10.0.0.7]", refusal},
		{"ftp://rt.example.com", "must be an http(s) URL"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			u := team.DeepCopy()
			u.SetNamespace(ns)
			u.SetName(fmt.Sprintf("rt-url-%d", i))
			set("spec.queueBackend", map[string]any{"requestTracker": map[string]any{
				"url": tc.url, "tokenSecretRef": map[string]any{"name": "rt", "key": "token"}}})(u.Object)
			err := env.Client.Create(ctx, u, client.DryRunAll)
			switch {
			case tc.refused == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
				t.Fatalf("got %v, want a refusal containing %q", err, tc.refused)
			}
		})
	}
}

// TestPatienceAccepted: the bounds of serviceLevel.patience are inclusive
// and a usual value passes (the refusals are in badCases).
func TestPatienceAccepted(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	for i, patience := range []string{"1s", "2m", "1h30m", "2h"} {
		u := readSamples(t)["SupportTeam"].DeepCopy()
		u.SetNamespace(ns)
		u.SetName(fmt.Sprintf("patient-%d", i))
		set("spec.queues.0.serviceLevel.patience", patience)(u.Object)
		substitute(u.Object, map[string]string{"$NAMESPACE": ns, "$NAME": u.GetName()})
		if err := env.Client.Create(ctx, u, client.DryRunAll); err != nil {
			t.Errorf("patience %s refused: %v", patience, err)
		}
	}
}
