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

package resources

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
)

// Labels of drill objects. A sandbox namespace cannot have its run as
// owner (namespaced objects cannot own cluster-scoped ones), so the run is
// found from the sandbox's labels, and a finalizer on the run deletes it.
const (
	// LabelDrill is on a drill's runs and evidence ConfigMaps.
	LabelDrill = "ops.supportstack.io/drill"
	// LabelDrillRun and LabelDrillRunNamespace are on a run's sandbox
	// namespace and everything in it.
	LabelDrillRun          = "ops.supportstack.io/drillrun"
	LabelDrillRunNamespace = "ops.supportstack.io/drillrun-namespace"
	// LabelComponent tells the scratch PostgreSQL from the drill agents.
	LabelComponent = "ops.supportstack.io/component"
	// LabelEvidence marks evidence ConfigMaps.
	LabelEvidence = "ops.supportstack.io/evidence"
)

// Sandbox components and object names.
const (
	ComponentScratchPostgres = "scratch-postgres"
	ComponentDrillAgent      = "drill-agent"

	ScratchPostgresName   = "scratch-postgres"
	ScratchSecretName     = "scratch-postgres"
	RepositorySecretName  = "repository"
	RepositoryCredentials = "repository-credentials"
	RestoreClaimName      = "restored-volumes"
	// SandboxURIEnv holds the scratch server's URI in the agent pods.
	SandboxURIEnv = "SUPPORTSTACK_SANDBOX_URI"
	restoreRoot   = "/restore"
	postgresUID   = 999 // the postgres user of the official image
	minScratch    = 1 << 30
)

// SandboxNamespaceName is the run's sandbox namespace: spec.sandbox.namespace,
// or drill-<hash>-<run>, where hash is a short SHA-256 of the run's
// namespace and name: runs of the same name in two namespaces (the same
// drill name and schedule) get two sandboxes. The run name follows, cut to
// fit 63 characters, so a person can tell whose sandbox it is. The name is
// no secret (anyone can compute it): what makes a namespace the run's is
// the UID it recorded when it created it.
func SandboxNamespaceName(run *opsv1alpha1.DRDrillRun) string {
	if n := run.Spec.Sandbox.Namespace; n != "" {
		return n
	}
	sum := sha256.Sum256([]byte(run.Namespace + "/" + run.Name))
	prefix := "drill-" + hex.EncodeToString(sum[:])[:sandboxHashLen] + "-"
	// Run names may hold dots; namespace names may not.
	readable := strings.ReplaceAll(run.Name, ".", "-")
	if len(prefix)+len(readable) > 63 {
		readable = readable[:63-len(prefix)]
	}
	return strings.TrimRight(prefix+readable, "-")
}

// sandboxHashLen is how many hex digits of the hash a sandbox name carries
// (40 bits).
const sandboxHashLen = 10

// SandboxLabels tie a sandbox object to its run.
func SandboxLabels(run *opsv1alpha1.DRDrillRun) map[string]string {
	l := Labels(LabelDrillRun, run.Name)
	l[LabelDrillRunNamespace] = run.Namespace
	return l
}

// SandboxNamespace is a run's sandbox: Pod Security "restricted" enforced,
// annotated with the run's UID. Without the sandbox-namespace admission
// policy, neither the labels nor the annotation make a namespace the run's:
// anyone who can label namespaces can copy them, and the run trusts only the
// namespace whose UID it recorded in status.sandboxNamespaceUID when it
// created it. With that policy in force (only the operator may set the label
// LabelDrillRun and the annotation), a namespace carrying the run's name and
// UID is one the operator created for it, and a run that never recorded its
// sandbox's UID adopts it (controller's sandboxProvenByPolicy).
func SandboxNamespace(run *opsv1alpha1.DRDrillRun) *corev1.Namespace {
	labels := SandboxLabels(run)
	for _, mode := range []string{"enforce", "audit", "warn"} {
		labels["pod-security.kubernetes.io/"+mode] = "restricted"
		labels["pod-security.kubernetes.io/"+mode+"-version"] = "latest"
	}
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:        SandboxNamespaceName(run),
		Labels:      labels,
		Annotations: map[string]string{AnnotationDrillRunUID: string(run.UID)},
	}}
}

// AnnotationDrillRunUID on a sandbox namespace names the UID of the run that
// created it: information only without the sandbox-namespace admission
// policy, proof with it (see SandboxNamespace).
const AnnotationDrillRunUID = "ops.supportstack.io/drill-run-uid"

// ScratchBytes sizes the scratch storage (the scratch server's data
// directory, the restored volumes' claim, the room for the restore's dump
// file): twice the largest total bytes among the policy's recent
// successful backups (what restic read: the dumps and files; a failed run,
// or a run missing a part, reads less than the data it leaves unrestored),
// at least 1 GiB, plus ScratchWALBytes. The factor
// is room for what a dump holds only as definitions (indexes, built
// again, and their sorts' temporary files under the data directory) and
// for table bloat while loading; the WAL margin is pg_wal between
// checkpoints. It is the one measure of a drill's disk: the scratch
// server's ephemeral-storage request, the sandbox quota and the check
// that some node can hold it all follow from it.
func ScratchBytes(policy *opsv1alpha1.BackupPolicy) int64 {
	size := int64(0)
	for _, b := range policy.Status.RecentBackups {
		if b.Result == opsv1alpha1.BackupSucceeded {
			size = max(size, b.TotalBytes*2)
		}
	}
	if b := policy.Status.LastBackup; size == 0 && b != nil && b.Result == opsv1alpha1.BackupSucceeded {
		size = b.TotalBytes * 2
	}
	return max(size, minScratch) + ScratchWALBytes
}

// ScratchPostgresResources bound the scratch server, whatever image the
// drill names; agent pods have theirs from agentPodSpec. Every pod in a
// sandbox has CPU and memory requests and limits (the sandbox quota names
// limits.cpu and limits.memory, so the API server refuses a pod without
// them), and together they fit the quota.
var ScratchPostgresResources = corev1.ResourceRequirements{
	Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
	Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi")},
}

// SandboxQuota bounds what a sandbox may consume: six pods in all, finished
// ones included (count/pods: the scratch server, the restore and verify
// pods, and a few a person inspecting a kept sandbox adds); CPU and memory
// requests and limits, so a pod without them is refused, with room for the
// three drill pods at once (the quota controller gives a finished restore
// pod's share back only some time after it ends, and the verify pod starts
// at once); ephemeral storage for those three pods and one more agent pod
// (sandboxEphemeralBytes), so the quota never blocks a drill the nodes can
// hold; one scratch volume; no exposed Services. Its limits are not a
// drill author's to choose: they hold whatever postgresImage the drill
// names. cacheBytes is the agent pods' cache (WithAgentCache: the default
// when not positive). A run with a requestTracker check gets room for the
// RT beside its verify agent (RTSandboxResources, its emptyDirs).
func SandboxQuota(run *opsv1alpha1.DRDrillRun, scratchBytes, cacheBytes int64) *corev1.ResourceQuota {
	cacheBytes = agentSettings([]AgentPodOption{WithAgentCache(cacheBytes)}).cacheBytes
	ephemeralBytes := sandboxEphemeralBytes(scratchBytes, cacheBytes)
	limitsCPU, limitsMemory := resource.MustParse("6"), resource.MustParse("8Gi")
	if hasRequestTrackerCheck(run) {
		// The verify pod runs RT beside the agent.
		ephemeralBytes += rtSandboxEphemeralBytes
		limitsCPU.Add(*RTSandboxResources.Limits.Cpu())
		limitsMemory.Add(*RTSandboxResources.Limits.Memory())
	}
	ephemeral := *resource.NewQuantity(ephemeralBytes, resource.BinarySI)
	return &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "sandbox", Namespace: SandboxNamespaceName(run), Labels: SandboxLabels(run)},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourcePods:                     resource.MustParse("4"),
			ResourceCountPods:                       resource.MustParse("6"),
			corev1.ResourceRequestsCPU:              resource.MustParse("2"),
			corev1.ResourceRequestsMemory:           resource.MustParse("4Gi"),
			corev1.ResourceLimitsCPU:                limitsCPU,
			corev1.ResourceLimitsMemory:             limitsMemory,
			corev1.ResourceRequestsEphemeralStorage: ephemeral,
			corev1.ResourceLimitsEphemeralStorage:   ephemeral,
			corev1.ResourcePersistentVolumeClaims:   resource.MustParse("1"),
			corev1.ResourceRequestsStorage:          *resource.NewQuantity(scratchBytes, resource.BinarySI),
			corev1.ResourceServices:                 resource.MustParse("1"),
			corev1.ResourceServicesLoadBalancers:    resource.MustParse("0"),
			corev1.ResourceServicesNodePorts:        resource.MustParse("0"),
		}},
	}
}

// sandboxEphemeralBytes is the ephemeral storage of a sandbox's pods: the
// scratch server, the restore pod (the dump file and the cache), the
// verify pod (the cache) and one more agent pod of the verify pod's size
// (the quota controller gives a finished pod's share back late; a person
// inspecting a kept sandbox may start one). Each pod's share is what
// setEphemeralStorage gives it: its emptyDirs plus WritableLayerBytes.
func sandboxEphemeralBytes(scratchBytes, cacheBytes int64) int64 {
	scratch := WritableLayerBytes
	for _, v := range scratchPostgresVolumes(scratchBytes) {
		scratch += v.EmptyDir.SizeLimit.Value()
	}
	restore := scratchBytes + cacheBytes + WritableLayerBytes
	agent := cacheBytes + WritableLayerBytes
	return scratch + restore + 2*agent
}

// scratchPostgresVolumes are the scratch server's emptyDirs: the data
// directory (ScratchBytes), the socket directory and /tmp.
func scratchPostgresVolumes(scratchBytes int64) []corev1.Volume {
	return []corev1.Volume{boundedEmptyDir("data", scratchBytes), boundedEmptyDir("run", scratchRunBytes), boundedEmptyDir("tmp", scratchTmpBytes)}
}

// ResourceCountPods is the quota on every pod object of a namespace,
// finished ones included (pods counts only those not finished).
const ResourceCountPods corev1.ResourceName = "count/pods"

// SandboxNetworkPolicies deny all ingress and egress in the sandbox, then
// let the agent pods reach DNS, the repository and the scratch server, and
// the scratch server accept the agents. A restored help desk reaches no one.
func SandboxNetworkPolicies(run *opsv1alpha1.DRDrillRun, repository *EgressPeer) []*networkingv1.NetworkPolicy {
	ns := SandboxNamespaceName(run)
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	dns, pg := intstr.FromInt32(53), intstr.FromInt32(5432)
	agents := metav1.LabelSelector{MatchLabels: map[string]string{LabelComponent: ComponentDrillAgent}}
	scratch := metav1.LabelSelector{MatchLabels: map[string]string{LabelComponent: ComponentScratchPostgres}}
	both := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	egress := []networkingv1.NetworkPolicyEgressRule{
		{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}}},
		{To: []networkingv1.NetworkPolicyPeer{{PodSelector: &scratch}}, Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &pg}}},
	}
	if repository != nil {
		egress = append(egress, BackupNetworkPolicy(&opsv1alpha1.BackupPolicy{}, []EgressPeer{*repository}).Spec.Egress[1])
	}
	policy := func(name string, spec networkingv1.NetworkPolicySpec) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: SandboxLabels(run)}, Spec: spec}
	}
	return []*networkingv1.NetworkPolicy{
		policy("default-deny", networkingv1.NetworkPolicySpec{PolicyTypes: both}),
		policy("drill-agent-egress", networkingv1.NetworkPolicySpec{PodSelector: agents, PolicyTypes: both, Egress: egress}),
		policy("scratch-postgres-ingress", networkingv1.NetworkPolicySpec{PodSelector: scratch, PolicyTypes: both,
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &agents}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &pg}},
			}}}),
	}
}

// Keys of the scratch Secret. The superuser's are for the scratch server
// and the restore Job only; the verify Job gets the checker's alone.
const (
	ScratchSuperuserPassword = "password"
	ScratchSuperuserURI      = "uri"
	ScratchCheckerPassword   = "checker-password"
	ScratchCheckerURI        = "checker-uri"
)

// CheckerRoleName is the login role the restore Job creates for the checks:
// only pg_read_all_data and CONNECT on the restored databases.
const CheckerRoleName = "supportstack_checker"

// CheckerPasswordEnv holds the checker's password in the restore Job.
const CheckerPasswordEnv = "SUPPORTSTACK_CHECKER_PASSWORD"

// ScratchSecret holds the scratch server's generated superuser password and
// URI (the restore Job's) and a second generated password and URI for the
// checker role the restore creates (the verify Job's). It never leaves the
// sandbox.
func ScratchSecret(run *opsv1alpha1.DRDrillRun, password, checkerPassword string) *corev1.Secret {
	ns := SandboxNamespaceName(run)
	uri := func(user, password string) string {
		return fmt.Sprintf("postgresql://%s:%s@%s.%s.svc:5432/postgres?sslmode=disable", user, password, ScratchPostgresName, ns)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: ScratchSecretName, Namespace: ns, Labels: SandboxLabels(run)},
		StringData: map[string]string{
			ScratchSuperuserPassword: password,
			ScratchSuperuserURI:      uri("postgres", password),
			ScratchCheckerPassword:   checkerPassword,
			ScratchCheckerURI:        uri(CheckerRoleName, checkerPassword),
		},
	}
}

// ScratchPostgres is the empty server a run restores into: the drill's
// image, restricted security, data on an emptyDir sized from the backup
// (scratchBytes, ScratchBytes) and ephemeral storage requested for all of
// it, so the scheduler places it on a node with that much disk.
func ScratchPostgres(run *opsv1alpha1.DRDrillRun, scratchBytes int64) (*corev1.Pod, *corev1.Service) {
	ns := SandboxNamespaceName(run)
	labels := SandboxLabels(run)
	labels[LabelComponent] = ComponentScratchPostgres
	image := run.Spec.Sandbox.PostgresImage
	if image == "" {
		image = "postgres:15"
	}
	security := RestrictedPodSecurity()
	security.RunAsUser, security.RunAsGroup, security.FSGroup = ptr.To[int64](postgresUID), ptr.To[int64](postgresUID), ptr.To[int64](postgresUID)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: ScratchPostgresName, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken: ptr.To(false),
			RestartPolicy:                corev1.RestartPolicyAlways,
			SecurityContext:              security,
			Volumes:                      scratchPostgresVolumes(scratchBytes),
			Containers: []corev1.Container{{
				Name:  "postgres",
				Image: image,
				Env: []corev1.EnvVar{
					{Name: "PGDATA", Value: "/var/lib/postgresql/data/pgdata"},
					{Name: "POSTGRES_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: ScratchSecretName}, Key: ScratchSuperuserPassword}}},
				},
				Ports: []corev1.ContainerPort{{Name: "postgres", ContainerPort: 5432}},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "data", MountPath: "/var/lib/postgresql/data"},
					{Name: "run", MountPath: "/var/run/postgresql"},
					{Name: "tmp", MountPath: "/tmp"},
				},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"pg_isready", "-h", "127.0.0.1", "-U", "postgres"}}},
					PeriodSeconds: 5,
				},
				SecurityContext: RestrictedContainerSecurity(),
				Resources:       *ScratchPostgresResources.DeepCopy(),
			}},
		},
	}
	setEphemeralStorage(&pod.Spec)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: ScratchPostgresName, Namespace: ns, Labels: SandboxLabels(run)},
		// Headless: the restore and verify pods reach the server by its
		// DNS name, which resolves to the pod once it is ready. A cluster
		// IP per drill run would hold one of the Service range's
		// addresses for nothing (a /24 ran out at a thousand runs).
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Selector:  map[string]string{LabelComponent: ComponentScratchPostgres},
			Ports:     []corev1.ServicePort{{Name: "postgres", Port: 5432, TargetPort: intstr.FromInt32(5432)}},
		},
	}
	return pod, svc
}

// RestoreClaim is the scratch volume restored volume sources land on.
func RestoreClaim(run *opsv1alpha1.DRDrillRun, scratchBytes int64) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: RestoreClaimName, Namespace: SandboxNamespaceName(run), Labels: SandboxLabels(run)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: *resource.NewQuantity(scratchBytes, resource.BinarySI)}},
		},
	}
}

// DrillPlan is what a run's restore and verify Jobs do, worked out from the
// procedure and its BackupPolicy.
type DrillPlan struct {
	Restore agentapi.RestoreConfig
	checks  []opsv1alpha1.DrillCheck
	// databaseSource maps a database to the source it is backed up from.
	databaseSource map[string]string
	HasVolumes     bool
}

// PlanDrill checks the procedure against its policy (what CEL cannot see)
// and plans the restore. Every problem is named in the error.
func PlanDrill(proc opsv1alpha1.DrillProcedure, policy *opsv1alpha1.BackupPolicy) (DrillPlan, error) {
	plan := DrillPlan{
		Restore: agentapi.RestoreConfig{Policy: policy.Namespace + "/" + policy.Name, Snapshot: proc.Snapshot,
			Checker: &agentapi.CheckerRole{Name: CheckerRoleName, PasswordEnv: CheckerPasswordEnv},
			// A large dump is fetched to /tmp and loaded with one
			// pg_restore job per CPU both the agent and the scratch server
			// (which does the work of the jobs) may use.
			Jobs: min(AgentCPULimit, int(ScratchPostgresResources.Limits.Cpu().Value())), ScratchDir: "/tmp", ScratchBytes: ScratchBytes(policy)},
		checks:         proc.Checks,
		databaseSource: map[string]string{},
	}
	if plan.Restore.Snapshot == "" {
		plan.Restore.Snapshot = "latest"
	}
	var problems []string
	if strings.HasPrefix(policy.Spec.Repository.URL, "/") {
		problems = append(problems, fmt.Sprintf("BackupPolicy %s keeps its repository on a volume of its namespace, which a sandbox cannot mount: drills need a repository reached over the network (s3:, rest:, sftp:, ...)", policy.Name))
	}
	var databases []string
	for _, p := range policy.Spec.Sources.Postgres {
		for _, db := range p.Databases {
			plan.databaseSource[db] = p.Name
			databases = append(databases, db)
			plan.Restore.Postgres = append(plan.Restore.Postgres, agentapi.RestoreDatabase{Source: p.Name, Database: db, TargetURIEnv: SandboxURIEnv})
		}
	}
	volumes := map[string]bool{}
	for _, v := range policy.Spec.Sources.Volumes {
		volumes[v.Name] = true
		plan.HasVolumes = true
		plan.Restore.Volumes = append(plan.Restore.Volumes, agentapi.RestoreVolume{Source: v.Name, SourcePath: volumeMountRoot + "/" + v.Name, Target: restoreRoot})
	}
	sort.Strings(databases)
	for _, c := range proc.Checks {
		switch {
		case c.Files != nil:
			if !volumes[c.Files.Volume] {
				problems = append(problems, fmt.Sprintf("check %s: BackupPolicy %s has no volume source %q", c.Name, policy.Name, c.Files.Volume))
			}
		case c.ReferencedFiles != nil:
			problems = append(problems, referencedFilesProblems(c, policy.Name, volumes, plan.databaseSource, databases)...)
		case c.RequestTracker != nil:
			problems = append(problems, requestTrackerProblems(c, policy.Name, volumes, plan.databaseSource, databases)...)
		case c.Database != "":
			if plan.databaseSource[c.Database] == "" {
				problems = append(problems, fmt.Sprintf("check %s: BackupPolicy %s backs up no database %q (it has %s)", c.Name, policy.Name, c.Database, strings.Join(databases, ", ")))
			}
		case c.CompareManifest != nil && len(databases) != 1:
			problems = append(problems, fmt.Sprintf("check %s: set database: BackupPolicy %s backs up %d databases (%s)", c.Name, policy.Name, len(databases), strings.Join(databases, ", ")))
		}
	}
	if len(problems) > 0 {
		return plan, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return plan, nil
}

// referencedFilesProblems names what a referencedFiles check asks of its
// policy that the policy lacks: the volume, and the database (which may be
// left out when the policy backs up one).
func referencedFilesProblems(c opsv1alpha1.DrillCheck, policy string, volumes map[string]bool, databaseSource map[string]string, databases []string) []string {
	var problems []string
	if !volumes[c.ReferencedFiles.Volume] {
		problems = append(problems, fmt.Sprintf("check %s: BackupPolicy %s has no volume source %q", c.Name, policy, c.ReferencedFiles.Volume))
	}
	return append(problems, checkDatabaseProblems(c, policy, databaseSource, databases)...)
}

// requestTrackerProblems names what a requestTracker check asks of its
// policy that the policy lacks (the attachments' volume, the database),
// and a database name RT's configuration cannot carry.
func requestTrackerProblems(c opsv1alpha1.DrillCheck, policy string, volumes map[string]bool, databaseSource map[string]string, databases []string) []string {
	var problems []string
	if v := c.RequestTracker.AttachmentsVolume; v != "" && !volumes[v] {
		problems = append(problems, fmt.Sprintf("check %s: BackupPolicy %s has no volume source %q", c.Name, policy, v))
	}
	problems = append(problems, checkDatabaseProblems(c, policy, databaseSource, databases)...)
	database := c.Database
	if database == "" && len(databases) == 1 {
		database = databases[0]
	}
	if database != "" && !plainSQLIdentifier.MatchString(database) {
		problems = append(problems, fmt.Sprintf("check %s: Request Tracker cannot use database %q: its name must be a plain PostgreSQL identifier (lower-case letters, digits and _, starting with a letter or _)", c.Name, database))
	}
	return problems
}

// checkDatabaseProblems says whether the database a check names is backed
// up by the policy, or, when it names none, whether the policy backs up
// exactly one.
func checkDatabaseProblems(c opsv1alpha1.DrillCheck, policy string, databaseSource map[string]string, databases []string) []string {
	var problems []string
	switch {
	case c.Database != "" && databaseSource[c.Database] == "":
		problems = append(problems, fmt.Sprintf("check %s: BackupPolicy %s backs up no database %q (it has %s)", c.Name, policy, c.Database, strings.Join(databases, ", ")))
	case c.Database == "" && len(databases) != 1:
		problems = append(problems, fmt.Sprintf("check %s: set database: BackupPolicy %s backs up %d databases (%s)", c.Name, policy, len(databases), strings.Join(databases, ", ")))
	}
	return problems
}

// VerifyChecks are the verify Job's checks. Manifests never travel in a
// configuration: each comparison names the snapshot the restore reported
// and the digest it reported, and the verify pod reads that manifest from
// the repository and refuses one with another digest.
func (p DrillPlan) VerifyChecks(restored []agentapi.Restored) (agentapi.VerifyConfig, error) {
	byKey := map[string]agentapi.Restored{}
	for _, r := range restored {
		byKey[r.Source+"/"+r.Database] = r
	}
	from := func(source, database string) (*agentapi.ManifestRef, error) {
		r, ok := byKey[source+"/"+database]
		if !ok {
			return nil, fmt.Errorf("the restore reported no snapshot of %s", strings.TrimSuffix(source+"/"+database, "/"))
		}
		return &agentapi.ManifestRef{Policy: p.Restore.Policy, Source: source, Database: database, Snapshot: r.ID, SHA256: r.ManifestSHA256}, nil
	}
	checks := make(agentapi.VerifyConfig, 0, len(p.checks))
	for _, c := range p.checks {
		vc := agentapi.VerifyCheck{Name: c.Name, Database: c.Database, TargetURIEnv: SandboxURIEnv}
		if vc.Database == "" && len(p.databaseSource) == 1 {
			for db := range p.databaseSource {
				vc.Database = db
			}
		}
		switch {
		case c.SQL != "":
			vc.SQL, vc.Min, vc.Max, vc.Equals = c.SQL, c.Expect.Min, c.Expect.Max, c.Expect.Equals
		case c.CompareManifest != nil:
			ref, err := from(p.databaseSource[vc.Database], vc.Database)
			if err != nil {
				return nil, err
			}
			vc.Tables = &agentapi.TableComparison{Tables: c.CompareManifest.Tables, TolerancePercent: float64(c.CompareManifest.TolerancePercent), From: ref}
		case c.Files != nil:
			ref, err := from(c.Files.Volume, "")
			if err != nil {
				return nil, err
			}
			vc = agentapi.VerifyCheck{Name: c.Name, Files: &agentapi.FileComparison{Path: restoreRoot + volumeMountRoot + "/" + c.Files.Volume, From: ref}}
		case c.ReferencedFiles != nil:
			vc.ReferencedFiles = &agentapi.ReferencedFiles{Path: restoreRoot + volumeMountRoot + "/" + c.ReferencedFiles.Volume, SQL: c.ReferencedFiles.SQL}
		case c.RequestTracker != nil:
			ref, err := from(p.databaseSource[vc.Database], vc.Database)
			if err != nil {
				return nil, err
			}
			vc.RequestTracker = &agentapi.RequestTracker{URL: RTSandboxURL, From: ref, SampleAttachments: DefaultRTSampleAttachments}
			if n := c.RequestTracker.SampleAttachments; n != nil {
				vc.RequestTracker.SampleAttachments = int(*n)
			}
			if v := c.RequestTracker.AttachmentsVolume; v != "" {
				vc.RequestTracker.AttachmentsPath = restoreRoot + volumeMountRoot + "/" + v
			} else {
				vc.RequestTracker.SampleAttachments = 0
			}
		}
		checks = append(checks, vc)
	}
	return checks, nil
}

// DrillJob runs the agent's restore or verify in the sandbox, with the
// repository secrets copied into the sandbox. The restore Job connects as
// the scratch server's superuser and gets the checker's password to create
// that role; the verify Job gets the checker's URI only, never the
// superuser's password or URI. /tmp holds restic's cache (WithAgentCache)
// and, in the restore pod, the dump file (config.ScratchBytes).
func DrillJob(run *opsv1alpha1.DRDrillRun, policy *opsv1alpha1.BackupPolicy, agentImage string, config agentapi.DrillConfig, deadline int64, withVolumes bool, opts ...AgentPodOption) *batchv1.Job {
	operation := config.Operation()
	labels := SandboxLabels(run)
	labels[LabelComponent] = ComponentDrillAgent
	labels[LabelOperation] = operation
	credentials := ""
	if policy.Spec.Repository.CredentialsSecretRef != nil {
		credentials = RepositoryCredentials
	}
	env, envFrom := repositoryEnv(policy.Spec.Repository.URL, opsv1alpha1.SecretKeyRef{Name: RepositorySecretName, Key: "password"}, credentials)
	if operation == agentapi.OperationVerify {
		env = append(env, secretEnv(SandboxURIEnv, opsv1alpha1.SecretKeyRef{Name: ScratchSecretName, Key: ScratchCheckerURI}))
	} else {
		env = append(env, secretEnv(SandboxURIEnv, opsv1alpha1.SecretKeyRef{Name: ScratchSecretName, Key: ScratchSuperuserURI}),
			secretEnv(CheckerPasswordEnv, opsv1alpha1.SecretKeyRef{Name: ScratchSecretName, Key: ScratchCheckerPassword}))
	}
	tmpBytes := agentSettings(opts).cacheBytes
	if rc, ok := config.(agentapi.RestoreConfig); ok && rc.ScratchBytes > 0 {
		tmpBytes += rc.ScratchBytes // the dump file, beside restic's cache
	}
	volumes := []corev1.Volume{boundedEmptyDir("tmp", tmpBytes)}
	mounts := []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}}
	if withVolumes {
		volumes = append(volumes, corev1.Volume{Name: "restored", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: RestoreClaimName, ReadOnly: operation == agentapi.OperationVerify}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "restored", MountPath: restoreRoot, ReadOnly: operation == agentapi.OperationVerify})
	}
	spec := agentPodSpec(agentImage, agentapi.Args(operation, config), env, envFrom, volumes, mounts)
	if job, ok := config.(agentapi.VerifyJob); ok {
		for _, c := range job.Checks {
			if c.RequestTracker != nil {
				addRTSandbox(&spec, SandboxNamespaceName(run), agentSettings(opts).rtImage, c)
			}
		}
	}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: operation, Namespace: SandboxNamespaceName(run), Labels: labels},
		Spec: batchv1.JobSpec{
			BackoffLimit:          ptr.To[int32](0),
			ActiveDeadlineSeconds: ptr.To(deadline),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       spec,
			},
		},
	}
}
