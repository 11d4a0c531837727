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
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
)

// A drill's requestTracker check (issue #20): Request Tracker runs in the
// verify pod as a sidecar (an init container that restarts always, so the
// Job completes when the agent does) in RTServerScript's sandbox role, on
// the restored database as the read-only checker role, and the agent uses
// it at RTSandboxURL.
const (
	// RTSandboxPort is where the drill's RT listens, on the pod's loopback.
	RTSandboxPort = 8080
	// RTSandboxURL is the drill's RT as the agent beside it reaches it.
	RTSandboxURL = "http://127.0.0.1:8080"
	// DefaultRTSampleAttachments is how many attachments stored as files
	// a requestTracker check reads back when it does not say.
	DefaultRTSampleAttachments = 5

	rtSiteConfigEnv = "SUPPORTSTACK_RT_SITE_CONFIG"
	rtScriptEnv     = "SUPPORTSTACK_RT_SERVER"
	// rtSandboxCacheBytes and rtSandboxTmpBytes bound the drill's RT's
	// Mason cache (REST2 alone compiles few components) and /tmp (RT
	// spools no upload here: the sandbox role takes no writes).
	rtSandboxCacheBytes = 64 << 20
	rtSandboxTmpBytes   = 16 << 20
	rtSandboxSiteBytes  = 1 << 20
)

// RTSandboxResources bound the drill's RT: a Starman master and two
// workers. SandboxQuota makes room for them in a run that has the check.
var RTSandboxResources = corev1.ResourceRequirements{
	Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
	Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")},
}

// rtSandboxEphemeralBytes is what the drill's RT adds to the verify pod's
// ephemeral storage: its emptyDirs and its container's writable layer.
const rtSandboxEphemeralBytes = rtSandboxCacheBytes + rtSandboxTmpBytes + rtSandboxSiteBytes + WritableLayerBytes

// hasRequestTrackerCheck says whether a run's verify pod runs RT.
func hasRequestTrackerCheck(run *opsv1alpha1.DRDrillRun) bool {
	for _, c := range run.Spec.Checks {
		if c.RequestTracker != nil {
			return true
		}
	}
	return false
}

// RTSandboxSiteConfig is the drill's RT's site configuration: the restored
// database on the scratch server of sandbox namespace, as the checker role
// (its password from RTDatabasePasswordEnv), RT's files on the restored
// attachments when attachments is set, and no mail.
func RTSandboxSiteConfig(namespace, database string, attachments bool) (string, error) {
	return RTSiteConfig(RTSite{
		Name: "drill", Organization: "drill.invalid", WebDomain: "127.0.0.1", WebPort: RTSandboxPort, TimeZone: "UTC",
		DatabaseHost: ScratchPostgresName + "." + namespace + ".svc", DatabasePort: 5432, DatabaseName: database, DatabaseUser: CheckerRoleName,
		Attachments: attachments, NoMail: true,
	})
}

// addRTSandbox adds the drill's RT to a verify pod's spec for check c. The
// site configuration travels in an environment variable (it holds no
// secret) that the container writes into an emptyDir RT reads as
// RT_SiteConfig.d; the restored attachments, when the check names them,
// are mounted read-only where RT's Disk storage looks.
func addRTSandbox(spec *corev1.PodSpec, namespace, image string, c agentapi.VerifyCheck) {
	config, err := RTSandboxSiteConfig(namespace, c.Database, c.RequestTracker.AttachmentsPath != "")
	if err != nil {
		// PlanDrill refused such a database name before any Job.
		panic(fmt.Sprintf("drill RT configuration: %v", err))
	}
	mounts := []corev1.VolumeMount{
		{Name: "rt-site-config", MountPath: rtSiteConfigDir},
		{Name: "rt-cache", MountPath: "/var/cache/request-tracker5"},
		{Name: "rt-tmp", MountPath: "/tmp"},
	}
	if p := c.RequestTracker.AttachmentsPath; p != "" {
		mounts = append(mounts, corev1.VolumeMount{Name: "restored", MountPath: RTAttachmentsPath, ReadOnly: true,
			SubPath: strings.TrimPrefix(p, restoreRoot+"/")})
	}
	resources := *RTSandboxResources.DeepCopy()
	resources.Requests[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(WritableLayerBytes, resource.BinarySI)
	resources.Limits[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(WritableLayerBytes, resource.BinarySI)
	spec.Volumes = append(spec.Volumes,
		boundedEmptyDir("rt-site-config", rtSandboxSiteBytes), boundedEmptyDir("rt-cache", rtSandboxCacheBytes), boundedEmptyDir("rt-tmp", rtSandboxTmpBytes))
	spec.InitContainers = append(spec.InitContainers, corev1.Container{
		Name:          "request-tracker",
		Image:         image,
		RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways),
		Command: []string{"/bin/sh", "-c", `printf '%s' "$` + rtSiteConfigEnv + `" > ` + rtSiteConfigDir + "/" + RTSiteConfigFile +
			` && exec /usr/bin/perl -e "$` + rtScriptEnv + `" -- --port ` + fmt.Sprint(RTSandboxPort) + ` --workers 2`},
		Env: []corev1.EnvVar{
			secretEnv(RTDatabasePasswordEnv, opsv1alpha1.SecretKeyRef{Name: ScratchSecretName, Key: ScratchCheckerPassword}),
			{Name: rtServerRoleEnv, Value: "sandbox"},
			{Name: rtSiteConfigEnv, Value: config},
			{Name: rtScriptEnv, Value: RTServerScript},
		},
		VolumeMounts: mounts,
		// RT's image runs as its own user (65532, as the agent's).
		SecurityContext: RestrictedContainerSecurity(),
		Resources:       resources,
	})
	// The agent's container carries the pod's emptyDirs, RT's included.
	setEphemeralStorage(spec)
}
