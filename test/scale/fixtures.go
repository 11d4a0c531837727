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

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// labelRun marks the objects of one set (operator or baseline), so the
// harness lists only its own.
const labelRun = "scale.supportstack.io/set"

// set is one copy of the workload: n of each kind over ns namespaces named
// prefix-00, prefix-01, ...
type set struct {
	name   string // "operator" or "baseline"
	prefix string
	n, ns  int
}

func (s set) namespace(i int) string { return fmt.Sprintf("%s-%02d", s.prefix, i%s.ns) }

func (s set) namespaces() []string {
	out := make([]string, 0, s.ns)
	for i := range s.ns {
		out = append(out, s.namespace(i))
	}
	return out
}

// postgresService is each namespace's database server (a Service without
// pods: the operator only resolves it for the NetworkPolicy).
const postgresService = "postgres"

var zones = []string{"Europe/Warsaw", "America/New_York", "Asia/Tokyo", "Europe/London", "America/Los_Angeles"}

// team is a 20-person team with two shifts and 5 queues (phone, chat,
// portal, e-mail and an escalation queue the phone queue escalates to).
// rev changes the roster: revision 1 replaces the last member by a new
// hire and moves one specialist to the other shift.
func (s set) team(i, rev int) *opsv1alpha1.SupportTeam {
	skills := []string{"windows, phone", "windows, chat", "mac, email", "network, email", "windows, mac, email"}
	var b strings.Builder
	fmt.Fprintf(&b, `spec:
  displayName: Help desk %[1]d
  tier: %[2]d
  timeZone: %[3]s
  shrinkage: 30
  shifts:
  - {name: early, days: [Mon, Tue, Wed, Thu, Fri], start: "07:00", end: "15:30"}
  - {name: late, days: [Mon, Tue, Wed, Thu, Fri], start: "11:30", end: "20:00"}
  holidays:
  - {date: "2026-12-25", name: Christmas Day}
  timeOff:
  - {member: m01, from: "2026-12-24", to: "2026-12-31", reason: vacation}
  members:
`, i, 1+i%3, zones[i%len(zones)])
	for m := range 20 {
		name := fmt.Sprintf("m%02d", m)
		if rev > 0 && m == 19 {
			name = fmt.Sprintf("m%02d", 20+rev)
		}
		role := "Specialist"
		switch m {
		case 0:
			role = "Lead"
		case 1:
			role = "Manager"
		}
		shift := []string{"early", "late"}[m%2]
		if rev > 0 && m == 4 {
			shift = "late"
		}
		fmt.Fprintf(&b, "  - {name: %s, email: %s.%d@example.com, role: %s, skills: [%s], shifts: [%s]}\n",
			name, name, i, role, skills[m%len(skills)], shift)
	}
	b.WriteString(`  queues:
  - name: phone
    channel: Phone
    skills: [phone]
    demand:
      averageHandleTime: 4m
      intervals:
      - {days: [Mon, Tue, Wed, Thu, Fri], from: "08:00", to: "18:00", contactsPerHour: 30}
    serviceLevel: {percent: 80, answerWithin: 20s}
    escalation: {after: 30m, toQueue: escalations}
  - name: chat
    channel: Chat
    skills: [chat]
    demand:
      averageHandleTime: 6m
      intervals:
      - {days: [Mon, Tue, Wed, Thu, Fri], from: "08:00", to: "18:00", contactsPerHour: 12}
    serviceLevel: {percent: 80, answerWithin: 60s}
  - name: portal
    channel: Portal
    skills: [mac]
    demand:
      averageHandleTime: 10m
      intervals:
      - {days: [Mon, Tue, Wed, Thu, Fri], from: "08:00", to: "18:00", contactsPerHour: 6}
    responseTargets: {firstResponse: 8h, resolution: 72h}
  - name: email
    channel: Email
    skills: [email]
    demand:
      averageHandleTime: 8m
      intervals:
      - {days: [Mon, Tue, Wed, Thu, Fri], from: "08:00", to: "18:00", contactsPerHour: 8}
    responseTargets: {firstResponse: 4h, resolution: 48h}
  - name: escalations
    channel: Email
    skills: [network, email]
    demand:
      averageHandleTime: 15m
      intervals:
      - {days: [Mon, Tue, Wed, Thu, Fri], from: "08:00", to: "18:00", contactsPerHour: 3}
    responseTargets: {firstResponse: 4h, resolution: 48h}
`)
	t := &opsv1alpha1.SupportTeam{}
	mustYAML(b.String(), t)
	t.Name, t.Namespace = fmt.Sprintf("team-%04d", i), s.namespace(i)
	t.Labels = map[string]string{labelRun: s.name}
	return t
}

// policy backs up one database (on the namespace's PostgreSQL Service) and
// one volume, nightly, into an S3 repository.
func (s set) policy(i int) *opsv1alpha1.BackupPolicy {
	p := &opsv1alpha1.BackupPolicy{}
	mustYAML(fmt.Sprintf(`spec:
  schedule: "%d 2 * * *"
  timeZone: %s
  sources:
    postgres:
    - name: db
      connectionSecretRef: {name: db-%04[3]d, key: uri}
      databases: [app%04[3]d]
    volumes:
    - {name: attachments, claimName: attachments-%04[3]d}
  repository:
    url: s3:https://s3.example.com/backups-%04[3]d
    passwordSecretRef: {name: restic, key: password}
    credentialsSecretRef: {name: s3-credentials}
  retention: {keepLast: 7, keepDaily: 14, keepWeekly: 8, keepMonthly: 12}
  check: {schedule: "0 4 * * 0", readDataPercent: 5}
  objectives: {rpo: 26h}
`, i%60, zones[i%len(zones)], i), p)
	p.Name, p.Namespace = fmt.Sprintf("policy-%04d", i), s.namespace(i)
	p.Labels = map[string]string{labelRun: s.name}
	return p
}

// drill restores its policy's latest snapshot weekly, with the sample's checks.
func (s set) drill(i int) *opsv1alpha1.DRDrill {
	d := &opsv1alpha1.DRDrill{}
	mustYAML(fmt.Sprintf(`spec:
  backupPolicyName: policy-%04[1]d
  schedule: "%[2]d 6 * * 1"
  timeZone: %[3]s
  snapshot: latest
  sandbox: {keep: OnFailure, ttl: 2h, postgresImage: "postgres:15"}
  checks:
  - {name: rows-present, database: app%04[1]d, sql: "SELECT count(*) FROM tickets", expect: {min: 1}}
  - {name: row-counts, compareManifest: {tables: [tickets, articles], tolerancePercent: 0}}
  - {name: attachments, files: {volume: attachments, compareManifest: true}}
  objectives: {rto: 30m, rpo: 26h}
  historyLimit: {passed: 12, failed: 12}
  evidence:
    signingKeySecretRef: {name: drill-signing-key, key: ed25519.key}
`, i, i%60, zones[i%len(zones)]), d)
	d.Name, d.Namespace = fmt.Sprintf("drill-%04d", i), s.namespace(i)
	d.Labels = map[string]string{labelRun: s.name}
	return d
}

func mustYAML(doc string, into any) {
	if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
		panic(fmt.Sprintf("%v\n%s", err, doc))
	}
}

// benchSigningKey is every namespace's drill evidence signing key.
func benchSigningKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed([]byte("supportstack-scale-bench-seed-32"))
}

// inputs are what the policies and drills refer to: per namespace the
// repository's Secrets, the drills' signing key and a PostgreSQL Service;
// per policy its database's Secret and its volume's claim.
func (s set) inputs() ([]client.Object, error) {
	der, err := x509.MarshalPKCS8PrivateKey(benchSigningKey())
	if err != nil {
		return nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	// Every namespace comes first: createAll creates the leading
	// namespaces before anything else (a Secret created with its namespace
	// still on the way is refused: "namespaces not found").
	var objs []client.Object
	for _, ns := range s.namespaces() {
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{labelRun: s.name}}})
	}
	for _, ns := range s.namespaces() {
		objs = append(objs,
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "restic", Namespace: ns}, StringData: map[string]string{"password": "restic-pass"}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s3-credentials", Namespace: ns},
				StringData: map[string]string{"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s3-secret"}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "drill-signing-key", Namespace: ns}, Data: map[string][]byte{"ed25519.key": keyPEM}},
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: postgresService, Namespace: ns}, Spec: corev1.ServiceSpec{
				Selector: map[string]string{"app": postgresService},
				Ports:    []corev1.ServicePort{{Port: 5432, TargetPort: intstr.FromInt32(5432)}},
			}},
		)
	}
	for i := range s.n {
		ns := s.namespace(i)
		objs = append(objs,
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("db-%04d", i), Namespace: ns},
				StringData: map[string]string{"uri": fmt.Sprintf("postgresql://app:pw-%d@postgres:5432/app%04d", i, i)}},
			&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("attachments-%04d", i), Namespace: ns},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}},
				}},
		)
	}
	return objs, nil
}

// createAll creates objs with workers goroutines; namespaces (first in
// objs) are created before anything else.
func createAll(ctx context.Context, c client.Client, objs []client.Object, workers int) error {
	i := 0
	for i < len(objs) {
		if _, ok := objs[i].(*corev1.Namespace); !ok {
			break
		}
		i++
	}
	if err := parallel(ctx, workers, objs[:i], func(o client.Object) error { return c.Create(ctx, o) }); err != nil {
		return err
	}
	return parallel(ctx, workers, objs[i:], func(o client.Object) error { return c.Create(ctx, o) })
}

// parallel runs f on every item with workers goroutines and returns the
// first error.
func parallel[T any](ctx context.Context, workers int, items []T, f func(T) error) error {
	ch := make(chan T)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range workers {
		wg.Go(func() {
			for it := range ch {
				if err := f(it); err != nil {
					once.Do(func() { first = err })
				}
			}
		})
	}
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		ch <- it
	}
	close(ch)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
