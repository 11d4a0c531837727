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

package leader

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/supportstack/operator/internal/controller"
	"github.com/supportstack/operator/internal/testenv"
)

// sandboxPolicy is config/admission/sandbox_namespace_policy.yaml's policy
// and binding under the names the operator reads
// (controller.SandboxNamespacePolicy, config/default's). testenv installs
// the file under its own, unprefixed names, which the operator does not
// read; the replicas run as the envtest admin (system:masters), which the
// policy lets through as it lets the operator's ServiceAccount.
func sandboxPolicy(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	objs, err := testenv.SandboxPolicy(controller.SandboxNamespacePolicy)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// installSandboxPolicy installs the policy the operator reads. It proves
// only namespaces created controller.SandboxPolicyMargin after it was
// created and last changed: see awaitSandboxPolicyInForce.
func installSandboxPolicy(t *testing.T, c client.Client) {
	t.Helper()
	for _, o := range sandboxPolicy(t) {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
}

// awaitSandboxPolicyInForce waits until controller.SandboxPolicyMargin has
// passed since the policy the operator reads and its binding were created
// and last changed (and the clock is past the second that ends in), so
// that a namespace created next is proven the operator's. The cases before
// the one that needs it usually take longer than that.
func awaitSandboxPolicyInForce(t *testing.T, c client.Client) {
	t.Helper()
	var last time.Time
	for _, o := range sandboxPolicy(t) {
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(o), o); err != nil {
			t.Fatal(err)
		}
		if ts := o.GetCreationTimestamp().Time; ts.After(last) {
			last = ts
		}
		for _, f := range o.GetManagedFields() {
			if f.Time != nil && f.Time.After(last) {
				last = f.Time.Time
			}
		}
	}
	wait := time.Until(last.Add(controller.SandboxPolicyMargin + 1100*time.Millisecond))
	if wait > 0 {
		t.Logf("waiting %s for the sandbox-namespace policy to be in force", wait.Round(time.Millisecond))
		time.Sleep(wait)
	}
}

// withoutSandboxPolicy removes the policy the operator reads and returns
// what installs it again.
func withoutSandboxPolicy(t *testing.T, c client.Client) (restore func()) {
	t.Helper()
	for _, o := range sandboxPolicy(t) {
		if err := c.Delete(context.Background(), o); err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
	}
	return func() { installSandboxPolicy(t, c) }
}
