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

package controller

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/evidence"
)

// secretRecheck is how soon an object whose Secret (or PVC) is missing is
// looked at again: Secrets are not watched.
const secretRecheck = 30 * time.Second

// missingSecret is a referenced Secret, or a key of it, that is not there:
// the user's to fix, said with the field that refers to it.
type missingSecret struct{ field, name, key string }

func (m *missingSecret) Error() string {
	if m.key != "" {
		return fmt.Sprintf("%s: Secret %s has no key %s", m.field, m.name, m.key)
	}
	return fmt.Sprintf("%s: Secret %s not found", m.field, m.name)
}

// readSecret reads a referenced Secret straight from the API server (the
// manager caches no Secrets) and checks it has key ("" = any key). What is
// missing is a *missingSecret; its values never reach a message.
func readSecret(ctx context.Context, reader client.Reader, namespace, field, name, key string) (*corev1.Secret, error) {
	var s corev1.Secret
	if err := reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s); apierrors.IsNotFound(err) {
		return nil, &missingSecret{field: field, name: name}
	} else if err != nil {
		return nil, err
	}
	if _, ok := s.Data[key]; key != "" && !ok {
		return nil, &missingSecret{field: field, name: name, key: key}
	}
	return &s, nil
}

var errBadKey = errors.New("the signing key is not an ed25519 private key (PEM PKCS#8 or 64 raw bytes)")

// signingKey is a drill's evidence signing key, nil when it signs nothing.
func signingKey(ctx context.Context, reader client.Reader, namespace string, spec *opsv1alpha1.EvidenceSpec) (ed25519.PrivateKey, error) {
	if spec == nil || spec.SigningKeySecretRef == nil {
		return nil, nil
	}
	ref := spec.SigningKeySecretRef
	s, err := readSecret(ctx, reader, namespace, "evidence.signingKeySecretRef", ref.Name, ref.Key)
	if err != nil {
		return nil, err
	}
	key, err := evidence.ParsePrivateKey(s.Data[ref.Key])
	if err != nil {
		return nil, fmt.Errorf("evidence.signingKeySecretRef: %w", errBadKey)
	}
	return key, nil
}

// isUserError says whether err is the user's to fix (reported in status)
// rather than the API server's (retried).
func isUserError(err error) bool {
	var missing *missingSecret
	return errors.As(err, &missing) || errors.Is(err, errBadKey)
}
