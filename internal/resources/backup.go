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
	"maps"
	"regexp"
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

// Labels of BackupPolicy children.
const (
	LabelBackupPolicy = "ops.supportstack.io/backuppolicy"
	// LabelOperation is backup, prune or check on CronJobs, their Jobs and pods.
	LabelOperation = "ops.supportstack.io/operation"
)

// Job limits of the backup CronJobs.
const (
	startingDeadlineSeconds = 600
	jobHistory              = 3
	activeDeadlineSeconds   = 6 * 3600
	backoffLimit            = 1
	agentUID                = 65532
	volumeMountRoot         = "/data"
	resticCacheDir          = "/tmp/restic-cache"
)

// BackupName names a policy's child of an operation: helpdesk-backup, helpdesk-prune, ...
func BackupName(policy *opsv1alpha1.BackupPolicy, operation string) string {
	return policy.Name + "-" + operation
}

// BackupServiceAccountName is the identity of the backup pods: no API access.
func BackupServiceAccountName(policy *opsv1alpha1.BackupPolicy) string {
	return policy.Name + "-backup-agent"
}

// BackupServiceAccount has no permissions and does not mount a token.
func BackupServiceAccount(policy *opsv1alpha1.BackupPolicy) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{
			Name: BackupServiceAccountName(policy), Namespace: policy.Namespace,
			Labels: Labels(LabelBackupPolicy, policy.Name),
		},
		AutomountServiceAccountToken: ptr.To(false),
	}
}

var envNameUnsafe = regexp.MustCompile(`[^A-Z0-9_]`)

// ConnectionEnv is the environment variable holding a PostgreSQL source's URI.
func ConnectionEnv(source string) string {
	return "SUPPORTSTACK_PGURI_" + envNameUnsafe.ReplaceAllString(strings.ToUpper(source), "_")
}

// AgentConfig is the agent's configuration for a policy: no secrets in it.
func AgentConfig(policy *opsv1alpha1.BackupPolicy) agentapi.Config {
	spec := policy.Spec
	cfg := agentapi.Config{Policy: policy.Namespace + "/" + policy.Name}
	for _, p := range spec.Sources.Postgres {
		cfg.Postgres = append(cfg.Postgres, agentapi.PostgresSource{Name: p.Name, URIEnv: ConnectionEnv(p.Name), Databases: p.Databases})
	}
	for _, v := range spec.Sources.Volumes {
		cfg.Volumes = append(cfg.Volumes, agentapi.VolumeSource{Name: v.Name, Path: volumeMountRoot + "/" + v.Name})
	}
	keep := func(p *int32) int {
		if p == nil {
			return 0
		}
		return int(*p)
	}
	r := spec.Retention
	cfg.Retention = agentapi.Retention{KeepLast: keep(r.KeepLast), KeepHourly: keep(r.KeepHourly), KeepDaily: keep(r.KeepDaily),
		KeepWeekly: keep(r.KeepWeekly), KeepMonthly: keep(r.KeepMonthly), KeepYearly: keep(r.KeepYearly)}
	if spec.Check != nil {
		cfg.ReadDataPercent = int(spec.Check.ReadDataPercent)
	}
	return cfg
}

// RestrictedPodSecurity is the Pod Security Standards "restricted" profile
// for every pod the operator creates.
func RestrictedPodSecurity() *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		RunAsUser:      ptr.To[int64](agentUID),
		RunAsGroup:     ptr.To[int64](agentUID),
		FSGroup:        ptr.To[int64](agentUID),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// RestrictedContainerSecurity drops everything a container does not need.
func RestrictedContainerSecurity() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		RunAsNonRoot:             ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// BackupCronJob runs the agent's operation (backup, prune or check) on its
// schedule. Secrets reach the pod only as environment variables from Secret
// references; the arguments hold the non-secret configuration. Restic's
// cache (/tmp) is bounded: DefaultAgentCacheBytes unless WithAgentCache says.
func BackupCronJob(policy *opsv1alpha1.BackupPolicy, operation, agentImage string, opts ...AgentPodOption) *batchv1.CronJob {
	spec := policy.Spec
	schedule := string(spec.Schedule)
	switch operation {
	case agentapi.OperationPrune:
		schedule = string(spec.Retention.Schedule)
		if schedule == "" {
			schedule = "@daily"
		}
	case agentapi.OperationCheck:
		schedule = string(spec.Check.Schedule)
	}
	labels := Labels(LabelBackupPolicy, policy.Name)
	labels[LabelOperation] = operation

	credentials := ""
	if c := spec.Repository.CredentialsSecretRef; c != nil {
		credentials = c.Name
	}
	env, envFrom := repositoryEnv(spec.Repository.URL, spec.Repository.PasswordSecretRef, credentials)
	volumes := []corev1.Volume{boundedEmptyDir("tmp", agentSettings(opts).cacheBytes)}
	mounts := []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}}
	if operation == agentapi.OperationBackup {
		// The run's snapshots are one recovery set, named after the Job
		// (the Jobs of a run split across nodes share it: see
		// BackupCronJobs and agentapi.RecoverySetOf).
		env = append(env, corev1.EnvVar{Name: agentapi.RecoverySetEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
			APIVersion: "v1", FieldPath: "metadata.labels['" + agentapi.JobNameLabel + "']"}}},
			corev1.EnvVar{Name: agentapi.LegacyJobNameEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
				APIVersion: "v1", FieldPath: "metadata.labels['" + agentapi.LegacyJobNameLabel + "']"}}})
		for _, p := range spec.Sources.Postgres {
			env = append(env, secretEnv(ConnectionEnv(p.Name), p.ConnectionSecretRef))
		}
		for _, v := range spec.Sources.Volumes {
			name := "source-" + v.Name
			volumes = append(volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.ClaimName, ReadOnly: true}}})
			mounts = append(mounts, corev1.VolumeMount{Name: name, MountPath: volumeMountRoot + "/" + v.Name, ReadOnly: true})
		}
	}
	if claim := spec.Repository.VolumeClaimName; claim != "" && strings.HasPrefix(spec.Repository.URL, "/") {
		volumes = append(volumes, corev1.Volume{Name: "repository", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "repository", MountPath: spec.Repository.URL})
	}

	podSpec := agentPodSpec(agentImage, agentapi.Args(operation, AgentConfig(policy)), env, envFrom, volumes, mounts)
	podSpec.ServiceAccountName = BackupServiceAccountName(policy)
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: BackupName(policy, operation), Namespace: policy.Namespace, Labels: labels},
		Spec: batchv1.CronJobSpec{
			Schedule:                   schedule,
			TimeZone:                   ptr.To(string(spec.TimeZone)),
			ConcurrencyPolicy:          batchv1.ForbidConcurrent,
			StartingDeadlineSeconds:    ptr.To[int64](startingDeadlineSeconds),
			SuccessfulJobsHistoryLimit: ptr.To[int32](jobHistory),
			FailedJobsHistoryLimit:     ptr.To[int32](jobHistory),
			Suspend:                    ptr.To(spec.Suspend),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: batchv1.JobSpec{
					BackoffLimit: ptr.To[int32](backoffLimit),
					// An agent of another contract version refuses every
					// retry alike: the first refusal fails the Job.
					PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
						Action: batchv1.PodFailurePolicyActionFailJob,
						OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{ContainerName: ptr.To("agent"),
							Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{agentapi.ExitContractMismatch}},
					}}},
					ActiveDeadlineSeconds: ptr.To[int64](activeDeadlineSeconds),
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: labels},
						Spec:       podSpec,
					},
				},
			},
		},
	}
}

// repositoryEnv reaches the restic repository: its URL, the password and
// the credentials (all keys of a Secret, e.g. AWS_ACCESS_KEY_ID) only by
// reference, a writable cache. credentials may be "".
func repositoryEnv(url string, password opsv1alpha1.SecretKeyRef, credentials string) ([]corev1.EnvVar, []corev1.EnvFromSource) {
	env := []corev1.EnvVar{
		{Name: "RESTIC_REPOSITORY", Value: url},
		secretEnv("RESTIC_PASSWORD", password),
		{Name: "RESTIC_CACHE_DIR", Value: resticCacheDir},
		{Name: "HOME", Value: "/tmp"},
	}
	var envFrom []corev1.EnvFromSource
	if credentials != "" {
		envFrom = append(envFrom, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: credentials}}})
	}
	return env, envFrom
}

func secretEnv(name string, ref opsv1alpha1.SecretKeyRef) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: ref.Name}, Key: ref.Key}}}
}

// AgentCPULimit is every agent pod's CPU limit, in CPUs; a restore runs
// pg_restore with as many jobs.
const AgentCPULimit = 2

// agentPodSpec is the pod every agent Job runs: restricted security, no
// service account token, no restarts (a failed attempt is a result), the
// result in the termination message, bounded memory and ephemeral storage
// (its emptyDirs' size limits and WritableLayerBytes).
func agentPodSpec(image string, args []string, env []corev1.EnvVar, envFrom []corev1.EnvFromSource, volumes []corev1.Volume, mounts []corev1.VolumeMount) corev1.PodSpec {
	spec := corev1.PodSpec{
		AutomountServiceAccountToken: ptr.To(false),
		RestartPolicy:                corev1.RestartPolicyNever,
		SecurityContext:              RestrictedPodSecurity(),
		Volumes:                      volumes,
		Containers: []corev1.Container{{
			Name:                     "agent",
			Image:                    image,
			Args:                     args,
			Env:                      env,
			EnvFrom:                  envFrom,
			VolumeMounts:             mounts,
			SecurityContext:          RestrictedContainerSecurity(),
			TerminationMessagePath:   corev1.TerminationMessagePathDefault,
			TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: mustQuantity("100m"), corev1.ResourceMemory: mustQuantity("128Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: *resource.NewQuantity(AgentCPULimit, resource.DecimalSI), corev1.ResourceMemory: mustQuantity("1Gi")},
			},
		}},
	}
	setEphemeralStorage(&spec)
	return spec
}

// EgressPeer is a destination backup pods may reach.
type EgressPeer struct {
	// Namespace and PodSelector select in-cluster pods (a Service's backends).
	Namespace   string
	PodSelector map[string]string
	// CIDR selects addresses outside the cluster (or any, 0.0.0.0/0, when a
	// host name cannot be pinned down).
	CIDR string
	Port int32
}

// EgressRule lets a NetworkPolicy's pods reach p, on its TCP port only.
func (p EgressPeer) EgressRule() networkingv1.NetworkPolicyEgressRule {
	tcp, port := corev1.ProtocolTCP, intstr.FromInt32(p.Port)
	rule := networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}}}
	if p.CIDR != "" {
		rule.To = []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: p.CIDR}}}
		return rule
	}
	rule.To = []networkingv1.NetworkPolicyPeer{{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: p.Namespace}},
		PodSelector:       &metav1.LabelSelector{MatchLabels: p.PodSelector},
	}}
	return rule
}

// BackupNetworkPolicy lets the policy's pods reach DNS and the given peers
// (the databases and the repository endpoint), and nothing else; no ingress.
func BackupNetworkPolicy(policy *opsv1alpha1.BackupPolicy, peers []EgressPeer) *networkingv1.NetworkPolicy {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	dns := intstr.FromInt32(53)
	rules := make([]networkingv1.NetworkPolicyEgressRule, 0, 1+len(peers))
	rules = append(rules, networkingv1.NetworkPolicyEgressRule{
		Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}},
	})
	for _, p := range peers {
		rules = append(rules, p.EgressRule())
	}
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: policy.Name + "-backup-egress", Namespace: policy.Namespace, Labels: Labels(LabelBackupPolicy, policy.Name)},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{LabelBackupPolicy: policy.Name}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Egress:      rules,
		},
	}
}

// RepositoryEndpoint returns the host and port a restic repository URL
// talks to; ok is false for a path (a mounted volume).
func RepositoryEndpoint(url string) (host string, port int32, ok bool) {
	var rest string
	switch {
	case strings.HasPrefix(url, "s3:"), strings.HasPrefix(url, "rest:"):
		rest = url[strings.Index(url, ":")+1:]
	case strings.HasPrefix(url, "sftp:"):
		h := strings.TrimPrefix(url, "sftp:")
		if i := strings.Index(h, "@"); i >= 0 {
			h = h[i+1:]
		}
		if i := strings.Index(h, ":"); i >= 0 {
			h = h[:i]
		}
		return h, 22, true
	case strings.HasPrefix(url, "b2:"), strings.HasPrefix(url, "azure:"), strings.HasPrefix(url, "gs:"), strings.HasPrefix(url, "swift:"), strings.HasPrefix(url, "rclone:"):
		return "", 443, true // a cloud API: any address, HTTPS
	default:
		return "", 0, false
	}
	port = 443
	if strings.HasPrefix(rest, "http://") {
		port = 80
	}
	rest = strings.TrimPrefix(strings.TrimPrefix(rest, "https://"), "http://")
	if i := strings.IndexAny(rest, "/"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:] // user:password@ is not part of the host
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		var p int
		if _, err := fmt.Sscanf(rest[i+1:], "%d", &p); err == nil {
			port = int32(p)
		}
		rest = rest[:i]
	}
	return rest, port, true
}

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }

// AnnotationBackupNow on a BackupPolicy starts one backup per new value,
// like `kubectl create job --from=cronjob/<policy>-backup`.
const AnnotationBackupNow = "ops.supportstack.io/backup-now"

// BackupNowJobName is the name of the Job a backup-now token makes of the
// CronJob cronJobName, of part part ("" or "1" for the first; the run's
// result is recorded under the first part's Job).
func BackupNowJobName(cronJobName, part, token string) string {
	sum := sha256.Sum256([]byte(token))
	// Job names end up in a label value: 63 characters. A part's number is
	// kept when a long name is cut, so the parts' Jobs stay distinct; the
	// hash ends every part's name alike (one recovery set).
	suffix := ""
	if part != "" && part != "1" {
		suffix = "-" + part
	}
	return withSuffix(strings.TrimSuffix(cronJobName, suffix), suffix, 50) + "-now-" + hex.EncodeToString(sum[:4])
}

// BackupNowJob is the backup CronJob's Job made on demand for token: the
// CronJob's job template, named after the token's hash (so a restarted
// reconcile finds it instead of making another) and marked, as kubectl
// marks it, instantiated by hand. The caller makes the CronJob its owner.
func BackupNowJob(cronJob *batchv1.CronJob, token string) *batchv1.Job {
	tmpl := cronJob.Spec.JobTemplate
	annotations := map[string]string{"cronjob.kubernetes.io/instantiate": "manual", AnnotationBackupNow: token}
	for k, v := range tmpl.Annotations {
		annotations[k] = v
	}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: BackupNowJobName(cronJob.Name, cronJob.Labels[LabelBackupPart], token), Namespace: cronJob.Namespace,
			Labels: maps.Clone(tmpl.Labels), Annotations: annotations,
		},
		Spec: *tmpl.Spec.DeepCopy(),
	}
}
