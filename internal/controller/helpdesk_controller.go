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
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
)

// helpDeskFinalizer holds a HelpDesk until deletionPolicy has been carried
// out on the data that owner references do not reach (the database's
// volume and the credentials Secret, which Retain keeps).
const helpDeskFinalizer = "ops.supportstack.io/helpdesk-data"

// configChecksumAnnotation on the web pods' template is the site
// configuration's SHA-256: a configuration change rolls the pods, which
// read it only at start-up.
const configChecksumAnnotation = "ops.supportstack.io/config-checksum"

// HelpDeskReconciler runs a HelpDesk: its generated credentials, the
// managed PostgreSQL, RT's schema Job, then RT's web Deployment, in that
// order, each step waiting for the one before to be ready.
type HelpDeskReconciler struct {
	client.Client
	// APIReader reads Secrets and PersistentVolumeClaims, which the
	// manager does not cache.
	APIReader client.Reader
	Recorder  events.EventRecorder
	// RTImage and PostgresImage run the help desk; resources.DefaultRTImage
	// and resources.DefaultPostgresImage when empty.
	RTImage, PostgresImage string
	// OperatorNamespace, when set, is where the operator's pods run: the
	// web port admits them (Options.OperatorNamespace).
	OperatorNamespace string
	// Clock dates Protected's verdict (the real clock when nil).
	Clock clock.PassiveClock

	// cronJobs is what the reconciler last saw whole of the CronJobs,
	// which the cache holds without their pod templates.
	cronJobs cronJobsSeen
}

// +kubebuilder:rbac:groups=ops.supportstack.io,resources=helpdesks,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=ops.supportstack.io,resources=helpdesks/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=ops.supportstack.io,resources=helpdesks/finalizers,verbs=update
// +kubebuilder:rbac:groups=ops.supportstack.io,resources=backuppolicies;drdrills,verbs=create;patch;delete
// +kubebuilder:rbac:groups=apps,resources=statefulsets;deployments,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;create;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create;patch;delete

// helpDeskRecheck is how often a HelpDesk in shape is looked at again: its
// namespace's PodSecurity label (Secured) and the Secrets it reads are not
// watched. A look in shape costs reads, no write.
const helpDeskRecheck = 10 * time.Minute

// Reconcile brings one HelpDesk's objects in line with its spec.
func (r *HelpDeskReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	hd := &opsv1alpha1.HelpDesk{}
	if err := r.Get(ctx, req.NamespacedName, hd); err != nil {
		if apierrors.IsNotFound(err) {
			r.cronJobs.forgetPolicy(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !hd.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, hd)
	}
	if !controllerutil.ContainsFinalizer(hd, helpDeskFinalizer) {
		before := hd.DeepCopy()
		controllerutil.AddFinalizer(hd, helpDeskFinalizer)
		// The patch wakes the reconciler again.
		return ctrl.Result{}, client.IgnoreNotFound(r.Patch(ctx, hd, client.MergeFrom(before)))
	}
	before := hd.DeepCopy()
	ctx, flush := batchApplied(ctx, r.Recorder, hd)
	err := r.apply(ctx, hd)
	flush()
	var specErr *helpDeskSpecError
	if err != nil && !errors.As(err, &specErr) {
		// Retried with backoff; said, so that a refusal is not silent.
		setCondition(hd, opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonProgressing, "retrying: "+err.Error())
	}
	if serr := patchStatus(ctx, r.Client, before, hd, before.Status, hd.Status); serr != nil {
		return ctrl.Result{}, serr
	}
	if errors.As(err, &specErr) {
		return ctrl.Result{RequeueAfter: secretRecheck}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: r.recheckAfter(ctx, hd)}, nil
}

// recheckAfter is when to look at the help desk again: helpDeskRecheck,
// or sooner when the pass of its own drill that makes it Protected turns
// older than the policy's maxAge (Protected then turns False on time,
// whatever other drills' passes keep the policy RestoreVerified).
func (r *HelpDeskReconciler) recheckAfter(ctx context.Context, hd *opsv1alpha1.HelpDesk) time.Duration {
	v := hd.Status.LastVerifiedRestore
	if v == nil || hd.Status.BackupPolicy == "" {
		return helpDeskRecheck
	}
	var policy opsv1alpha1.BackupPolicy
	if err := r.Get(ctx, client.ObjectKey{Namespace: hd.Namespace, Name: hd.Status.BackupPolicy}, &policy); err != nil {
		return helpDeskRecheck
	}
	if left := v.Time.Add(verificationMaxAge(&policy)).Sub(r.now()) + time.Second; left > 0 && left < helpDeskRecheck {
		return left
	}
	return helpDeskRecheck
}

// now is the reconciler's clock's time (the real clock's without one).
func (r *HelpDeskReconciler) now() time.Time {
	if r.Clock != nil {
		return r.Clock.Now()
	}
	return time.Now()
}

// apply makes each part in order and sets the conditions; a part that is
// not ready yet stops it with the conditions saying what is awaited (the
// watch on the part wakes the reconciler when it changes).
func (r *HelpDeskReconciler) apply(ctx context.Context, hd *opsv1alpha1.HelpDesk) error {
	names := resources.HelpDeskNames{HelpDesk: hd.Name}
	ns := hd.Namespace
	hd.Status.CredentialsSecret = names.Credentials()
	if err := r.credentials(ctx, hd, names); err != nil {
		return err
	}
	db, err := r.databaseConn(ctx, hd, names)
	if err != nil {
		return err
	}
	site := resources.RTSite{
		Name: string(hd.Spec.Site.Name), Organization: string(hd.Spec.Site.Organization),
		WebDomain: hd.Spec.Site.WebDomain, TimeZone: string(hd.Spec.Site.TimeZone),
		DatabaseHost: db.Host, DatabasePort: db.Port, DatabaseName: db.Name, DatabaseUser: db.User,
		Attachments: true,
	}
	if site.WebDomain == "" {
		site.WebDomain = names.Web() + "." + ns + ".svc"
	}
	if site.TimeZone == "" {
		site.TimeZone = "UTC"
	}
	if relay := hd.Spec.Mail.Relay; relay != nil {
		if err := r.relaySecrets(ctx, hd, relay); err != nil {
			return err
		}
		site.SMTPHost, site.SMTPPort = relay.Host, smtpPort(relay)
		site.SMTPStartTLS, site.SMTPAuth = relay.StartTLS, relay.CredentialsSecretRef != nil
		if relay.CASecretRef != nil {
			site.SMTPCAFile = resources.RTSMTPCAFile
		}
	}
	siteConfig, err := resources.RTSiteConfig(site)
	if err != nil {
		return specError(hd, err.Error())
	}
	configSecret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: names.SiteConfig(), Namespace: ns, Labels: resources.HelpDeskLabels(hd.Name, "web")},
		Data:       map[string][]byte{resources.RTSiteConfigFile: []byte(siteConfig)},
	}
	if err := r.notForeign(ctx, hd, configSecret); err != nil {
		return err
	}
	if err := createOrPatch(ctx, r.Client, r.Recorder, hd, configSecret, func(s *corev1.Secret) {
		s.Labels = mergeLabels(s.Labels, configSecret.Labels)
		s.Data = configSecret.Data
	}); err != nil {
		return err
	}

	if err := r.secure(ctx, hd, names, db); err != nil {
		return err
	}
	ready, rwx, err := r.database(ctx, hd, names, db)
	if err != nil || !ready {
		notChecked(hd, err, "the database", opsv1alpha1.ConditionSchemaReady, opsv1alpha1.ConditionWebReady, opsv1alpha1.ConditionProtected)
		return err
	}
	if ready, err := r.schema(ctx, hd, names, db); err != nil || !ready {
		notChecked(hd, err, "RT's schema", opsv1alpha1.ConditionWebReady, opsv1alpha1.ConditionProtected)
		return err
	}
	if err := r.web(ctx, hd, names, db, siteConfig, rwx); err != nil {
		return err
	}
	return r.protect(ctx, hd, names, db)
}

// databaseConn is where RT's database is: the managed PostgreSQL, or what
// the external database's Secret says. Of that Secret the operator uses
// the host, port and names; its password reaches RT's pods only through
// a secretKeyRef, and no message repeats it.
func (r *HelpDeskReconciler) databaseConn(ctx context.Context, hd *opsv1alpha1.HelpDesk, names resources.HelpDeskNames) (resources.HelpDeskDatabaseConn, error) {
	ext := hd.Spec.Database.External
	if ext == nil {
		return resources.ManagedDatabaseConn(hd.Namespace, names), nil
	}
	refused := func(msg string) (resources.HelpDeskDatabaseConn, error) {
		setCondition(hd, opsv1alpha1.ConditionDatabaseReady, metav1.ConditionFalse, opsv1alpha1.ReasonInvalidSpec, msg)
		notChecked(hd, nil, "the database", opsv1alpha1.ConditionSchemaReady, opsv1alpha1.ConditionWebReady, opsv1alpha1.ConditionProtected)
		return resources.HelpDeskDatabaseConn{}, specError(hd, msg)
	}
	secret := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: hd.Namespace, Name: ext.SecretName}, secret)
	switch {
	case apierrors.IsNotFound(err):
		return refused(fmt.Sprintf("spec.database.external.secretName: Secret %s not found in namespace %s: create it with the keys host, port, dbname, username, password (and uri for spec.protection), as a CloudNativePG cluster's <cluster>-app Secret has them",
			ext.SecretName, hd.Namespace))
	case err != nil:
		return resources.HelpDeskDatabaseConn{}, err
	}
	db, err := resources.ExternalDatabaseConn(secret.Name, secret.Data, hd.Spec.Protection != nil)
	if err != nil {
		return refused("spec.database.external: " + err.Error())
	}
	// RT's schema is in the database it was set up in: a Secret that now
	// names another would point RT (and the backups) at a database
	// without its tickets.
	if was := hd.Status.Database; was != "" && was != db.String() {
		return refused(fmt.Sprintf("spec.database.external: the Secret %s now names the database %s, but RT's schema was set up in %s: "+
			"put the Secret back; to move the help desk, restore a backup into the other database and create a HelpDesk on it", secret.Name, db, was))
	}
	return db, nil
}

// notChecked marks conditions Unknown (ReasonWaiting) when apply stopped
// at a part (awaited) that is not ready yet: they were not looked at. An
// error leaves them as they are: it is retried at once, and flipping them
// on every transient error would write status each time.
func notChecked(hd *opsv1alpha1.HelpDesk, err error, awaited string, conditions ...string) {
	if err != nil {
		return
	}
	for _, c := range conditions {
		setCondition(hd, c, metav1.ConditionUnknown, opsv1alpha1.ReasonWaiting, "not checked while "+awaited+" is not ready")
	}
}

// completeCredentials adds to an existing credentials Secret what the
// operator derives or generates and the Secret lacks: the backup URI
// (spec.protection, managed database) and the password of the operator's
// RT user. It does so only for a Secret labelled as this help desk's: one
// made by hand must carry its keys itself.
func (r *HelpDeskReconciler) completeCredentials(ctx context.Context, hd *opsv1alpha1.HelpDesk, names resources.HelpDeskNames, existing *corev1.Secret) error {
	add := map[string]string{}
	if hd.Spec.Protection != nil && hd.Spec.Database.External == nil && len(existing.Data[resources.HelpDeskBackupURIKey]) == 0 {
		add[resources.HelpDeskBackupURIKey] = resources.HelpDeskBackupURI(hd.Namespace, names, string(existing.Data[resources.HelpDeskAdminPasswordKey]))
	}
	if len(existing.Data[resources.HelpDeskOperatorPasswordKey]) == 0 {
		add[resources.HelpDeskOperatorPasswordKey] = randomPassword()
	}
	if len(add) == 0 {
		return nil
	}
	if existing.Labels[resources.LabelHelpDesk] != hd.Name {
		key := resources.HelpDeskOperatorPasswordKey
		what := "the password of RT's user " + resources.RTOperatorUser + ", letters and digits"
		if _, ok := add[resources.HelpDeskBackupURIKey]; ok {
			key, what = resources.HelpDeskBackupURIKey, "a libpq URI of the database administrator, for spec.protection"
		}
		return specError(hd, fmt.Sprintf("the credentials Secret %s needs the key %s (%s): add it, or label the Secret %s=%s to have the operator add it",
			names.Credentials(), key, what, resources.LabelHelpDesk, hd.Name))
	}
	before := existing.DeepCopy()
	for k, v := range add {
		existing.Data[k] = []byte(v)
	}
	if err := r.Patch(ctx, existing, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("adding %s to the credentials Secret %s: %w", strings.Join(slices.Sorted(maps.Keys(add)), " and "), existing.Name, err)
	}
	return nil
}

// credentials makes the Secret of generated passwords unless it exists. A
// Secret left by a HelpDesk of the same name (deletionPolicy Retain) is
// used as it is: its passwords are those the retained database holds.
func (r *HelpDeskReconciler) credentials(ctx context.Context, hd *opsv1alpha1.HelpDesk, names resources.HelpDeskNames) error {
	keys := []string{resources.HelpDeskAdminUserKey, resources.HelpDeskAdminPasswordKey, resources.HelpDeskDatabasePasswordKey, resources.HelpDeskRootPasswordKey}
	external := hd.Spec.Database.External != nil
	if external {
		// The external database's passwords are its Secret's.
		keys = []string{resources.HelpDeskRootPasswordKey}
	}
	existing := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: hd.Namespace, Name: names.Credentials()}, existing)
	switch {
	case err == nil:
		for _, k := range keys {
			if len(existing.Data[k]) == 0 {
				msg := fmt.Sprintf("the credentials Secret %s has no key %s: add it, or delete the Secret to have new credentials generated (only for a help desk whose database is new)", names.Credentials(), k)
				return specError(hd, msg)
			}
		}
		return r.completeCredentials(ctx, hd, names, existing)
	case !apierrors.IsNotFound(err):
		return err
	}
	adminPassword := randomPassword()
	// Letters and digits only: RT's set-up writes its role's password into
	// SQL unescaped (RTSchemaJob).
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: names.Credentials(), Namespace: hd.Namespace, Labels: resources.HelpDeskLabels(hd.Name, "database")},
		Data: map[string][]byte{
			resources.HelpDeskAdminUserKey:        []byte(resources.HelpDeskAdminUser),
			resources.HelpDeskAdminPasswordKey:    []byte(adminPassword),
			resources.HelpDeskBackupURIKey:        []byte(resources.HelpDeskBackupURI(hd.Namespace, names, adminPassword)),
			resources.HelpDeskDatabasePasswordKey: []byte(randomPassword()),
			resources.HelpDeskRootPasswordKey:     []byte(randomPassword()),
			resources.HelpDeskOperatorPasswordKey: []byte(randomPassword()),
		},
	}
	if external {
		secret.Data = map[string][]byte{
			resources.HelpDeskRootPasswordKey:     []byte(randomPassword()),
			resources.HelpDeskOperatorPasswordKey: []byte(randomPassword()),
		}
	}
	switch err := r.Create(ctx, secret); {
	case apierrors.IsAlreadyExists(err):
		// Made meanwhile (by a reconcile of a HelpDesk of the same name
		// that a stale cache still showed): the next reconcile reads it.
		return fmt.Errorf("the credentials Secret %s appeared while it was being made: reading it again", secret.Name)
	case err != nil:
		return fmt.Errorf("creating the credentials Secret %s: %w", secret.Name, err)
	}
	r.Recorder.Eventf(hd, secret, corev1.EventTypeNormal, opsv1alpha1.ReasonApplied, "Apply", "generated the credentials Secret %s", secret.Name)
	return nil
}

// relaySecrets checks that the relay's credentials Secret has its keys and
// its CA Secret its key: a pod whose Secret lacks them would never start,
// and say so only in its events.
func (r *HelpDeskReconciler) relaySecrets(ctx context.Context, hd *opsv1alpha1.HelpDesk, relay *opsv1alpha1.SMTPRelay) error {
	var refs [][3]string // field, Secret, key
	if c := relay.CredentialsSecretRef; c != nil {
		refs = append(refs, [3]string{"spec.mail.relay.credentialsSecretRef", c.Name, "username"}, [3]string{"spec.mail.relay.credentialsSecretRef", c.Name, "password"})
	}
	if c := relay.CASecretRef; c != nil {
		refs = append(refs, [3]string{"spec.mail.relay.caSecretRef", c.Name, c.Key})
	}
	for _, ref := range refs {
		_, err := readSecret(ctx, r.APIReader, hd.Namespace, ref[0], ref[1], ref[2])
		var missing *missingSecret
		if errors.As(err, &missing) {
			return specError(hd, missing.Error())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// smtpPort is the relay's port, 25 when the API server's default is not
// there (an object from before the field).
func smtpPort(relay *opsv1alpha1.SMTPRelay) int32 {
	if relay.Port == 0 {
		return 25
	}
	return relay.Port
}

// podSecurityEnforce is the namespace label that makes the API server
// refuse pods above a PodSecurity level.
const podSecurityEnforce = "pod-security.kubernetes.io/enforce"

// secure applies the help desk's NetworkPolicies, before any of its pods
// exists, and says in Secured which controls are in force.
func (r *HelpDeskReconciler) secure(ctx context.Context, hd *opsv1alpha1.HelpDesk, names resources.HelpDeskNames, db resources.HelpDeskDatabaseConn) error {
	backupPolicy := ""
	if hd.Spec.Protection != nil {
		backupPolicy = hd.Name
	}
	var external *resources.EgressPeer
	if db.External {
		peer, err := resolvePeer(ctx, r.APIReader, hd.Namespace, db.Host, db.Port)
		if err != nil {
			return fmt.Errorf("resolving the external database %s: %w", db.Host, err)
		}
		external = &peer
	}
	var relay *resources.EgressPeer
	if mail := hd.Spec.Mail.Relay; mail != nil {
		peer, err := resolvePeer(ctx, r.APIReader, hd.Namespace, mail.Host, smtpPort(mail))
		if err != nil {
			return fmt.Errorf("resolving the SMTP relay %s: %w", mail.Host, err)
		}
		relay = &peer
	}
	var operator *networkingv1.NetworkPolicyPeer
	if r.OperatorNamespace != "" {
		operator = resources.OperatorPeer(r.OperatorNamespace)
	}
	policies := resources.HelpDeskNetworkPolicies(hd.Namespace, names, hd.Spec.Web.IngressFrom, backupPolicy, external, relay, operator)
	applied := make([]string, 0, len(policies))
	for _, np := range policies {
		if err := r.notForeign(ctx, hd, np); err != nil {
			return err
		}
		if err := createOrPatch(ctx, r.Client, r.Recorder, hd, np, func(o *networkingv1.NetworkPolicy) {
			o.Labels = mergeLabels(o.Labels, np.Labels)
			// Whole: narrowing ingressFrom or taking protection away
			// removes a peer.
			setWhole(&o.Spec, np.Spec)
		}); err != nil {
			return err
		}
		applied = append(applied, np.Name)
	}
	ns := &corev1.Namespace{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Name: hd.Namespace}, ns); err != nil {
		return err
	}
	policiesSaid := "NetworkPolicies " + strings.Join(applied, ", ") + " let the help desk's pods make only its own connections"
	if level := ns.Labels[podSecurityEnforce]; level != "restricted" {
		setCondition(hd, opsv1alpha1.ConditionSecured, metav1.ConditionFalse, opsv1alpha1.ReasonPodSecurityNotEnforced, fmt.Sprintf(
			"%s; but the namespace %s enforces PodSecurity %q, not restricted: label it %s=restricted so that no pod beside the help desk's (which are restricted) runs with more rights",
			policiesSaid, hd.Namespace, level, podSecurityEnforce))
		return nil
	}
	setCondition(hd, opsv1alpha1.ConditionSecured, metav1.ConditionTrue, opsv1alpha1.ReasonControlsInForce,
		policiesSaid+"; the namespace enforces PodSecurity restricted")
	return nil
}

// database makes the volumes of the database and the attachments (once;
// not owned, so that Retain keeps them), then the database's Service and
// StatefulSet. It reports whether the database's pod is ready, and whether
// the attachments' claim may be mounted on several nodes at once (rwx: the
// claim's own access modes, which never change, whatever
// spec.attachments.accessModes says now). An external database has none
// of these: only the attachments' volume is made, and the schema Job is
// the first to connect.
func (r *HelpDeskReconciler) database(ctx context.Context, hd *opsv1alpha1.HelpDesk, names resources.HelpDeskNames, db resources.HelpDeskDatabaseConn) (ready, rwx bool, err error) {
	att := hd.Spec.Attachments
	attSize := resource.MustParse("1Gi")
	if att.Storage != nil {
		attSize = *att.Storage
	}
	modes, err := r.createClaimOnce(ctx, hd, resources.HelpDeskClaim(hd.Namespace, names.AttachmentsClaim(), hd.Name, "attachments", attSize, att.StorageClassName, att.AccessModes))
	if err != nil {
		return false, false, err
	}
	rwx = slices.Contains(modes, corev1.ReadWriteMany)
	if db.External {
		setCondition(hd, opsv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, opsv1alpha1.ReasonAvailable, fmt.Sprintf(
			"RT uses the external database %s at %s:%d as %s (Secret %s); the schema Job connects first and refuses a superuser role",
			db.Name, db.Host, db.Port, db.User, hd.Spec.Database.External.SecretName))
		return true, rwx, nil
	}
	size := resource.MustParse("1Gi")
	var class *string
	if m := hd.Spec.Database.Managed; m != nil {
		if m.Storage != nil {
			size = *m.Storage
		}
		class = m.StorageClassName
	}
	if _, err := r.createClaimOnce(ctx, hd, resources.HelpDeskClaim(hd.Namespace, names.DatabaseClaim(), hd.Name, "database", size, class, nil)); err != nil {
		return false, false, err
	}
	svc := resources.HelpDeskDatabaseService(hd.Namespace, names)
	if err := r.notForeign(ctx, hd, svc); err != nil {
		return false, false, err
	}
	if err := createOrPatch(ctx, r.Client, r.Recorder, hd, svc, func(s *corev1.Service) {
		s.Labels = mergeLabels(s.Labels, svc.Labels)
		setSpec(&s.Spec, svc.Spec)
	}); err != nil {
		return false, false, err
	}
	image := r.PostgresImage
	if image == "" {
		image = resources.DefaultPostgresImage
	}
	desired := resources.HelpDeskDatabase(hd.Namespace, names, image)
	if err := r.notForeign(ctx, hd, desired); err != nil {
		return false, false, err
	}
	sts, err := createOrPatchObject(ctx, r.Client, r.Recorder, hd, desired, func(s *appsv1.StatefulSet) {
		s.Labels = mergeLabels(s.Labels, desired.Labels)
		setSpec(&s.Spec, desired.Spec)
	})
	if err != nil {
		return false, false, err
	}
	if sts.Status.ObservedGeneration < sts.Generation || sts.Status.ReadyReplicas < 1 {
		msg := fmt.Sprintf("waiting for the database's pod %s-0 to be ready (kubectl get pod -n %s %s-0)", sts.Name, hd.Namespace, sts.Name)
		setCondition(hd, opsv1alpha1.ConditionDatabaseReady, metav1.ConditionFalse, opsv1alpha1.ReasonProgressing, msg)
		setCondition(hd, opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonProgressing, msg)
		return false, rwx, nil
	}
	setCondition(hd, opsv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, opsv1alpha1.ReasonAvailable, "PostgreSQL answers at "+names.Database()+"."+hd.Namespace+".svc:5432")
	return true, rwx, nil
}

// notForeign refuses to make desired over an object of its name that this
// HelpDesk does not control: the operator never takes over what someone
// else made (a BackupPolicy named like the help desk, a Secret, a
// Service), nor what a deleted HelpDesk of the same name left for the
// garbage collector. The cache is asked first (the help desk's own objects
// are there), then the API server.
func (r *HelpDeskReconciler) notForeign(ctx context.Context, hd *opsv1alpha1.HelpDesk, desired client.Object) error {
	existing := desired.DeepCopyObject().(client.Object)
	key := client.ObjectKeyFromObject(desired)
	err := r.Get(ctx, key, existing)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, key, existing)
	}
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return err
	case metav1.IsControlledBy(existing, hd):
		return nil
	}
	kind := fmt.Sprintf("%T", desired)
	if gvk, err := apiutil.GVKForObject(desired, r.Scheme()); err == nil {
		kind = gvk.Kind
	}
	return specError(hd, fmt.Sprintf("%s %s exists and is not this HelpDesk's (someone else's, or a deleted HelpDesk's that is still being removed): "+
		"the operator does not take it over; rename or delete it, or give the HelpDesk another name", kind, desired.GetName()))
}

// createClaimOnce creates a volume claim of the help desk unless it exists;
// it never changes one (a claim's size is grown by hand, where the
// StorageClass allows it). It returns the claim's access modes: the
// existing claim's, else the new one's.
func (r *HelpDeskReconciler) createClaimOnce(ctx context.Context, hd *opsv1alpha1.HelpDesk, claim *corev1.PersistentVolumeClaim) ([]corev1.PersistentVolumeAccessMode, error) {
	existing := &corev1.PersistentVolumeClaim{}
	err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(claim), existing)
	switch {
	case err == nil && existing.Labels[resources.LabelHelpDesk] != hd.Name:
		// Another application's volume must not be mounted (and chowned,
		// and backed up) as the help desk's.
		return nil, specError(hd, fmt.Sprintf("the PersistentVolumeClaim %s exists and is not labelled %s=%s: the operator uses only the help desk's own volumes; "+
			"rename or delete it, or label it if it really holds this help desk's data", claim.Name, resources.LabelHelpDesk, hd.Name))
	case err == nil && !existing.DeletionTimestamp.IsZero():
		return nil, specError(hd, fmt.Sprintf("the PersistentVolumeClaim %s is being deleted (deletionPolicy Delete of a HelpDesk of this name): waiting until it is gone", claim.Name))
	case err == nil:
		return existing.Spec.AccessModes, nil
	case !apierrors.IsNotFound(err):
		return nil, err
	}
	if err := r.Create(ctx, claim); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating the volume claim %s: %w", claim.Name, err)
	}
	r.Recorder.Eventf(hd, claim, corev1.EventTypeNormal, opsv1alpha1.ReasonApplied, "Apply", "created PersistentVolumeClaim %s", claim.Name)
	return claim.Spec.AccessModes, nil
}

// schema runs RT's schema Job for spec.version once, and reports whether
// the database holds that version's schema. The Job may run again on a set
// up database (a re-created HelpDesk on a retained volume): it then only
// puts RT's role and grants back.
func (r *HelpDeskReconciler) schema(ctx context.Context, hd *opsv1alpha1.HelpDesk, names resources.HelpDeskNames, db resources.HelpDeskDatabaseConn) (bool, error) {
	version, image := hd.Spec.Version, r.image()
	if hd.Status.Version == version {
		// A help desk set up before status.database and status.image were
		// kept: its schema is in the database it uses now, of the image
		// it runs now.
		hd.Status.Database = cmp.Or(hd.Status.Database, db.String())
		if hd.Status.Image == "" {
			running, err := r.runningImage(ctx, hd, names)
			if err != nil {
				return false, err
			}
			hd.Status.Image = cmp.Or(running, image)
		}
		if hd.Status.Image != image {
			return r.upgrade(ctx, hd, names, db, image)
		}
		setCondition(hd, opsv1alpha1.ConditionSchemaReady, metav1.ConditionTrue, opsv1alpha1.ReasonAvailable, "the database holds RT "+version+"'s schema")
		return true, nil
	}
	job := resources.RTSchemaJob(r.rtObjects(hd, db, names.Schema(version), "schema"), db, names.RootPassword(), names.OperatorPassword())
	existing, created, err := r.jobOnce(ctx, hd, job)
	if err != nil {
		return false, err
	}
	if created {
		r.Recorder.Eventf(hd, job, corev1.EventTypeNormal, opsv1alpha1.ReasonApplied, "Apply", "created Job %s", job.Name)
	}
	for _, c := range existing.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			// The schema is the Job's image's (the cache holds Jobs
			// without their pods' template: read it from the API server,
			// once).
			done := &batchv1.Job{}
			if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(existing), done); err != nil {
				return false, err
			}
			hd.Status.Version, hd.Status.Database, hd.Status.Image = version, db.String(), done.Spec.Template.Spec.Containers[0].Image
			setCondition(hd, opsv1alpha1.ConditionSchemaReady, metav1.ConditionTrue, opsv1alpha1.ReasonAvailable, "the database holds RT "+version+"'s schema")
			return true, nil
		case batchv1.JobFailed:
			msg := fmt.Sprintf("the schema Job %s failed (%s: %s); its log says why: kubectl logs -n %s job/%s; delete the Job to run it again", job.Name, c.Reason, c.Message, hd.Namespace, job.Name)
			setCondition(hd, opsv1alpha1.ConditionSchemaReady, metav1.ConditionFalse, opsv1alpha1.ReasonSchemaFailed, msg)
			setCondition(hd, opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonSchemaFailed, msg)
			return false, nil
		}
	}
	msg := fmt.Sprintf("waiting for the schema Job %s to complete", job.Name)
	setCondition(hd, opsv1alpha1.ConditionSchemaReady, metav1.ConditionFalse, opsv1alpha1.ReasonProgressing, msg)
	setCondition(hd, opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonProgressing, msg)
	return false, nil
}

// web makes RT's web and mail gateway Deployments and Services and sets
// WebReady and Ready.
func (r *HelpDeskReconciler) web(ctx context.Context, hd *opsv1alpha1.HelpDesk, names resources.HelpDeskNames, db resources.HelpDeskDatabaseConn, siteConfig string, rwx bool) error {
	replicas, workers := int32(1), hd.Spec.Web.Workers
	if hd.Spec.Web.Replicas != nil {
		replicas = *hd.Spec.Web.Replicas
	}
	if workers == 0 {
		workers = 2
	}
	sum := sha256.Sum256([]byte(siteConfig))
	// The mail gateway runs like the web (same image and configuration,
	// no attachments' volume: RTMailGatewayDeployment) on its own port,
	// one pod while the web serves.
	gatewayReplicas := min(replicas, 1)
	var deployments [2]*appsv1.Deployment
	for i, part := range []struct {
		name, component string
		build           func(resources.RTObjects) *appsv1.Deployment
	}{
		{names.Web(), "web", func(o resources.RTObjects) *appsv1.Deployment {
			o.AttachmentsClaim, o.AttachmentsReadWriteMany = names.AttachmentsClaim(), rwx
			return resources.RTWebDeployment(o, replicas, workers)
		}},
		{names.MailGateway(), "mailgate", func(o resources.RTObjects) *appsv1.Deployment {
			return resources.RTMailGatewayDeployment(o, gatewayReplicas)
		}},
	} {
		o := r.rtObjects(hd, db, part.name, part.component)
		desired := part.build(o)
		desired.Spec.Template.Annotations = map[string]string{configChecksumAnnotation: hex.EncodeToString(sum[:])}
		if err := r.notForeign(ctx, hd, desired); err != nil {
			return err
		}
		dep, err := createOrPatchObject(ctx, r.Client, r.Recorder, hd, desired, func(d *appsv1.Deployment) {
			d.Labels = mergeLabels(d.Labels, desired.Labels)
			setSpec(&d.Spec, desired.Spec)
		})
		if err != nil {
			return err
		}
		deployments[i] = dep
		svc := resources.RTService(o)
		if err := r.notForeign(ctx, hd, svc); err != nil {
			return err
		}
		if err := createOrPatch(ctx, r.Client, r.Recorder, hd, svc, func(s *corev1.Service) {
			s.Labels = mergeLabels(s.Labels, svc.Labels)
			setSpec(&s.Spec, svc.Spec)
		}); err != nil {
			return err
		}
	}
	if err := r.maintenance(ctx, hd, names, db, rwx); err != nil {
		return err
	}
	hd.Status.URL = "http://" + names.Web() + "." + hd.Namespace + ".svc"
	notRolled := func(dep *appsv1.Deployment, want int32) bool {
		st := dep.Status
		return st.ObservedGeneration < dep.Generation || st.UpdatedReplicas < want || st.ReadyReplicas < want || st.Replicas > want
	}
	web, gateway := deployments[0], deployments[1]
	switch {
	case replicas == 0:
		msg := "spec.web.replicas is 0: no web pod serves RT"
		setCondition(hd, opsv1alpha1.ConditionWebReady, metav1.ConditionFalse, opsv1alpha1.ReasonProgressing, msg)
		setCondition(hd, opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonProgressing, msg)
	case notRolled(web, replicas) || notRolled(gateway, gatewayReplicas):
		msg := fmt.Sprintf("%d of %d web pods updated and %d ready, %d of %d mail gateway pods ready (kubectl get pods -n %s -l app.kubernetes.io/instance=%s)",
			web.Status.UpdatedReplicas, replicas, web.Status.ReadyReplicas, gateway.Status.ReadyReplicas, gatewayReplicas, hd.Namespace, hd.Name)
		setCondition(hd, opsv1alpha1.ConditionWebReady, metav1.ConditionFalse, opsv1alpha1.ReasonProgressing, msg)
		setCondition(hd, opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonProgressing, msg)
	default:
		setCondition(hd, opsv1alpha1.ConditionWebReady, metav1.ConditionTrue, opsv1alpha1.ReasonAvailable, fmt.Sprintf(
			"%d web pods ready at %s; the mail gateway (for pods labelled %s=%s) at http://%s.%s.svc",
			replicas, hd.Status.URL, resources.LabelMailFetcher, hd.Name, names.MailGateway(), hd.Namespace))
		setCondition(hd, opsv1alpha1.ConditionReady, metav1.ConditionTrue, opsv1alpha1.ReasonReconciled, "RT "+hd.Status.Version+" answers at "+hd.Status.URL)
	}
	return nil
}

// maintenance makes the CronJobs of RT's periodic work, which run as the
// web pods do (component cron, for the NetworkPolicies).
func (r *HelpDeskReconciler) maintenance(ctx context.Context, hd *opsv1alpha1.HelpDesk, names resources.HelpDeskNames, db resources.HelpDeskDatabaseConn, rwx bool) error {
	zone := string(hd.Spec.Site.TimeZone)
	if zone == "" {
		zone = "UTC"
	}
	m := hd.Spec.Maintenance
	for _, job := range []struct {
		name     string
		schedule opsv1alpha1.CronSchedule
		fallback string
		command  []string
	}{
		{names.Externalize(), m.ExternalizeAttachments, "*/15 * * * *", []string{"/usr/sbin/rt-externalize-attachments-5"}},
		{names.Sessions(), m.CleanSessions, "30 3 * * *", []string{"/usr/sbin/rt-clean-sessions-5", "--older", "7D"}},
	} {
		schedule := string(job.schedule)
		if schedule == "" {
			schedule = job.fallback
		}
		o := r.rtObjects(hd, db, job.name, "cron")
		o.AttachmentsClaim, o.AttachmentsReadWriteMany = names.AttachmentsClaim(), rwx
		cj := resources.RTCronJob(o, schedule, zone, resources.AwaitDatabase(db, job.command...)...)
		if err := r.notForeign(ctx, hd, cj); err != nil {
			return err
		}
		if err := r.cronJobs.apply(ctx, r.Client, r.APIReader, r.Recorder, hd, cj); err != nil {
			return err
		}
	}
	return nil
}

// protect makes spec.protection's BackupPolicy and DRDrill (owned, named
// like the HelpDesk) and sets Protected from the policy's conditions.
func (r *HelpDeskReconciler) protect(ctx context.Context, hd *opsv1alpha1.HelpDesk, names resources.HelpDeskNames, db resources.HelpDeskDatabaseConn) error {
	p := hd.Spec.Protection
	if p == nil || p.Drill == nil {
		// The drill goes when it is no longer asked for, and its runs with
		// it (owner references); their evidence, which has no owner, stays.
		if err := r.deleteOwned(ctx, hd, &opsv1alpha1.DRDrill{ObjectMeta: metav1.ObjectMeta{Name: hd.Name, Namespace: hd.Namespace}}); err != nil {
			return err
		}
	}
	if p == nil {
		// The backups in the repository stay: only the policy goes.
		if err := r.deleteOwned(ctx, hd, &opsv1alpha1.BackupPolicy{ObjectMeta: metav1.ObjectMeta{Name: hd.Name, Namespace: hd.Namespace}}); err != nil {
			return err
		}
		hd.Status.BackupPolicy, hd.Status.Drill, hd.Status.LastVerifiedRestore = "", "", nil
		setCondition(hd, opsv1alpha1.ConditionProtected, metav1.ConditionFalse, opsv1alpha1.ReasonNotProtected,
			"spec.protection is not set: nothing backs this help desk up")
		return nil
	}
	zone := opsv1alpha1.TimeZone(cmp.Or(string(hd.Spec.Site.TimeZone), "UTC"))
	desired := resources.HelpDeskBackupPolicy(hd.Namespace, names, db, p, zone)
	if err := r.notForeign(ctx, hd, desired); err != nil {
		return err
	}
	policy, err := createOrPatchObject(ctx, r.Client, r.Recorder, hd, desired, func(b *opsv1alpha1.BackupPolicy) {
		b.Labels = mergeLabels(b.Labels, desired.Labels)
		setSpec(&b.Spec, desired.Spec)
		// What spec.protection decides, whole: an objective or a keep rule
		// taken away there goes here too. (Retention's defaults come with
		// the HelpDesk's own.)
		setWhole(&b.Spec.Sources, desired.Spec.Sources)
		setWhole(&b.Spec.Repository, desired.Spec.Repository)
		setWhole(&b.Spec.Retention, desired.Spec.Retention)
		setWhole(&b.Spec.Objectives, desired.Spec.Objectives)
	})
	if err != nil {
		return err
	}
	hd.Status.BackupPolicy = policy.Name
	hd.Status.Drill = ""
	if p.Drill != nil {
		image := cmp.Or(r.PostgresImage, resources.DefaultPostgresImage)
		drill := resources.HelpDeskDrill(hd.Namespace, names, db.Name, p.Drill, zone, image)
		if err := r.notForeign(ctx, hd, drill); err != nil {
			return err
		}
		if err := createOrPatch(ctx, r.Client, r.Recorder, hd, drill, func(d *opsv1alpha1.DRDrill) {
			d.Labels = mergeLabels(d.Labels, drill.Labels)
			setSpec(&d.Spec, drill.Spec)
			setWhole(&d.Spec.Checks, drill.Spec.Checks)
			setWhole(&d.Spec.Objectives, drill.Spec.Objectives)
			setWhole(&d.Spec.Evidence, drill.Spec.Evidence)
		}); err != nil {
			return err
		}
		hd.Status.Drill = drill.Name
	}
	var own *opsv1alpha1.VerifiedRestore
	if p.Drill != nil {
		var err error
		if own, err = r.ownVerifiedRestore(ctx, hd, policy); err != nil {
			return err
		}
	}
	setProtected(hd, policy, p.Drill != nil, own, r.now())
	return nil
}

// ownVerifiedRestore is the newest run of the help desk's own drill that
// proves the policy's backups restorable (verifiedBy), nil for none. It is
// read from the runs, not from the policy's lastVerifiedRestore: that is
// the newest pass of any drill naming the policy, and a later pass of
// another drill (whatever it checks) would hide the help desk's own.
func (r *HelpDeskReconciler) ownVerifiedRestore(ctx context.Context, hd *opsv1alpha1.HelpDesk, policy *opsv1alpha1.BackupPolicy) (*opsv1alpha1.VerifiedRestore, error) {
	var runs opsv1alpha1.DRDrillRunList
	if err := r.List(ctx, &runs, client.InNamespace(hd.Namespace), client.MatchingLabels{resources.LabelDrill: hd.Status.Drill}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	return newestVerified(runs.Items, policy.Name, hd.Status.Drill, verificationMaxAge(policy)), nil
}

// setProtected sets Protected (and lastVerifiedRestore) from the help
// desk's BackupPolicy and own, the newest run of its own drill that proves
// the backups restorable; drill says whether spec.protection asks for one.
// Only the help desk's own drill counts: any DRDrill naming the policy
// sets its RestoreVerified, whatever it checks.
func setProtected(hd *opsv1alpha1.HelpDesk, policy *opsv1alpha1.BackupPolicy, drill bool, own *opsv1alpha1.VerifiedRestore, now time.Time) {
	hd.Status.LastVerifiedRestore = nil
	if drill && own != nil {
		hd.Status.LastVerifiedRestore = own.DeepCopy()
	}
	ready := meta.FindStatusCondition(policy.Status.Conditions, opsv1alpha1.ConditionReady)
	verified, _, verdict, _ := verificationVerdict(hd.Namespace, []string{hd.Status.Drill}, own, verificationMaxAge(policy), now)
	switch {
	case ready == nil || ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != policy.Generation:
		msg := "the BackupPolicy " + policy.Name + " is not Ready yet"
		if ready != nil {
			msg = fmt.Sprintf("the BackupPolicy %s is not Ready: %s: %s", policy.Name, ready.Reason, ready.Message)
		}
		setCondition(hd, opsv1alpha1.ConditionProtected, metav1.ConditionFalse, opsv1alpha1.ReasonProtectionIncomplete, msg)
	case !drill:
		setCondition(hd, opsv1alpha1.ConditionProtected, metav1.ConditionTrue, opsv1alpha1.ReasonBackupsRunning,
			"the BackupPolicy "+policy.Name+" backs up the database and the attachments; no drill proves them restorable (spec.protection.drill)")
	case own == nil:
		setCondition(hd, opsv1alpha1.ConditionProtected, metav1.ConditionFalse, opsv1alpha1.ReasonProtectionIncomplete,
			"no run of the help desk's drill "+hd.Status.Drill+" has proved the backups restorable yet")
	case verified != metav1.ConditionTrue:
		setCondition(hd, opsv1alpha1.ConditionProtected, metav1.ConditionFalse, opsv1alpha1.ReasonProtectionIncomplete, verdict)
	default:
		setCondition(hd, opsv1alpha1.ConditionProtected, metav1.ConditionTrue, opsv1alpha1.ReasonBackupsVerified,
			"the BackupPolicy "+policy.Name+" backs up the database and the attachments, and "+verdict)
	}
}

// deleteOwned deletes o (read from the cache) if the HelpDesk controls it.
func (r *HelpDeskReconciler) deleteOwned(ctx context.Context, hd *opsv1alpha1.HelpDesk, o client.Object) error {
	switch err := r.Get(ctx, client.ObjectKeyFromObject(o), o); {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return err
	}
	if !metav1.IsControlledBy(o, hd) || !o.GetDeletionTimestamp().IsZero() {
		return nil
	}
	if err := r.Delete(ctx, o, client.Preconditions{UID: ptr.To(o.GetUID())}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting %T %s: %w", o, o.GetName(), err)
	}
	r.Recorder.Eventf(hd, o, corev1.EventTypeNormal, opsv1alpha1.ReasonApplied, "Delete", "deleted %s: spec.protection no longer asks for it", o.GetName())
	return nil
}

// rtObjects names what an RT pod of the help desk runs and reads.
func (r *HelpDeskReconciler) rtObjects(hd *opsv1alpha1.HelpDesk, db resources.HelpDeskDatabaseConn, name, component string) resources.RTObjects {
	o := helpDeskRTObjects(hd, r.image(), db.Password, name, component)
	// The relay's login and CA go to the pods that send mail (replies and
	// autoreplies: web and mail gateway), not to the schema Job or RT's
	// periodic jobs, which send none.
	if relay := hd.Spec.Mail.Relay; relay != nil && (component == "web" || component == "mailgate") && (relay.CredentialsSecretRef != nil || relay.CASecretRef != nil) {
		o.SMTP = &resources.RTSMTPSecrets{}
		if c := relay.CredentialsSecretRef; c != nil {
			o.SMTP.Credentials = c.Name
		}
		if c := relay.CASecretRef; c != nil {
			o.SMTP.CA = &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: c.Name}, Key: c.Key}
		}
	}
	return o
}

// helpDeskRTObjects is what every RT pod of the help desk runs and reads:
// image (resources.DefaultRTImage when empty), its site configuration,
// RT's database password (dbPassword), with the labels of component.
func helpDeskRTObjects(hd *opsv1alpha1.HelpDesk, image string, dbPassword corev1.SecretKeySelector, name, component string) resources.RTObjects {
	if image == "" {
		image = resources.DefaultRTImage
	}
	return resources.RTObjects{
		Name: name, Namespace: hd.Namespace, Labels: resources.HelpDeskLabels(hd.Name, component),
		Image: image, ConfigSecret: resources.HelpDeskNames{HelpDesk: hd.Name}.SiteConfig(), DatabasePassword: dbPassword,
	}
}

// finalize carries out deletionPolicy: Delete removes the volume claims
// (database, attachments) and the credentials Secret (only those the operator labelled for
// this help desk); Retain leaves them. Everything else is owned by the
// HelpDesk and goes with it.
func (r *HelpDeskReconciler) finalize(ctx context.Context, hd *opsv1alpha1.HelpDesk) error {
	if !controllerutil.ContainsFinalizer(hd, helpDeskFinalizer) {
		return nil
	}
	names := resources.HelpDeskNames{HelpDesk: hd.Name}
	if hd.Spec.DeletionPolicy == opsv1alpha1.HelpDeskDelete {
		var deleted []string
		for _, o := range []client.Object{
			&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: names.DatabaseClaim(), Namespace: hd.Namespace}},
			&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: names.AttachmentsClaim(), Namespace: hd.Namespace}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: names.Credentials(), Namespace: hd.Namespace}},
		} {
			err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(o), o)
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			if o.GetLabels()[resources.LabelHelpDesk] != hd.Name {
				continue // not the operator's: a Secret of that name the user made
			}
			if err := r.Delete(ctx, o, client.Preconditions{UID: ptr.To(o.GetUID())}); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("deleting %s: %w", o.GetName(), err)
			}
			deleted = append(deleted, o.GetName())
		}
		if len(deleted) > 0 {
			r.Recorder.Eventf(hd, nil, corev1.EventTypeNormal, opsv1alpha1.ReasonDeleting, "Delete",
				"deletionPolicy Delete: deleted %s", strings.Join(deleted, ", "))
		}
	} else {
		logf.FromContext(ctx).Info("deletionPolicy Retain: keeping the volume claims and the credentials Secret",
			"claims", []string{names.DatabaseClaim(), names.AttachmentsClaim()}, "secret", names.Credentials())
	}
	before := hd.DeepCopy()
	controllerutil.RemoveFinalizer(hd, helpDeskFinalizer)
	return client.IgnoreNotFound(r.Patch(ctx, hd, client.MergeFrom(before)))
}

// SetupWithManager watches HelpDesks and the objects they own.
func (r *HelpDeskReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&opsv1alpha1.HelpDesk{}).
		Owns(&appsv1.StatefulSet{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&batchv1.Job{}).
		Owns(&batchv1.CronJob{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Owns(&opsv1alpha1.BackupPolicy{}).
		Owns(&opsv1alpha1.DRDrill{}).
		Named("helpdesk").
		Complete(r)
}

// helpDeskSpecError is a HelpDesk problem that is the user's to fix; apply
// has already said it in the Ready condition. The reconciler looks again
// after secretRecheck (it might be a Secret, which is not watched).
type helpDeskSpecError struct{ msg string }

func (e *helpDeskSpecError) Error() string { return e.msg }

// specError sets Ready False with reason InvalidSpec and returns the error
// that says so.
func specError(hd *opsv1alpha1.HelpDesk, msg string) error {
	setCondition(hd, opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonInvalidSpec, msg)
	return &helpDeskSpecError{msg: msg}
}
