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

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// RTSchemaVersionAttribute is the RT system attribute that records the RT
// version (major.minor.patch) of the database's schema: the schema Job
// writes it once, when it is missing, and each upgrade Job moves it to
// the version it upgraded to. rt-setup-database's upgrade must be told
// which version it upgrades from; the database does not say otherwise.
const RTSchemaVersionAttribute = "SupportStackSchemaVersion"

// rtVersionPerl sets $version to the image's RT version as
// rt-setup-database wants it (Debian's $RT::VERSION is 5.0.3+dfsg-...,
// which its upgrade prompt never accepts).
const rtVersionPerl = `my ($version) = $RT::VERSION =~ /^([0-9]+[.][0-9]+[.][0-9]+)/ or die "rt-schema: cannot read the RT version $RT::VERSION\n";`

// RTSchemaVersionPerl records RTSchemaVersionAttribute when the database
// has none (the schema Job, after every run that succeeded). No single
// quote: it goes into RTSchemaScript between single quotes.
const RTSchemaVersionPerl = `use strict; use warnings;
use lib "/usr/share/request-tracker5/lib";
use RT; RT::LoadConfig(); RT::Init();
` + rtVersionPerl + `
if (!RT->System->FirstAttribute("` + RTSchemaVersionAttribute + `")) {
    my ($ok, $msg) = RT->System->SetAttribute(Name => "` + RTSchemaVersionAttribute + `",
        Description => "the RT version of the database schema: the SupportStack operator upgrades from it", Content => $version);
    die "rt-schema: recording the schema version: $msg\n" unless $ok;
    print "rt-schema: the schema is RT $version\n";
}
`

// RTUpgradeScript is the upgrade Job's shell script, run with a new RT
// image: rt-setup-database's upgrade from the version the database records
// (RTSchemaVersionAttribute) to the image's, then the record moved. With
// the same version it changes nothing ("up to date" or "No DB changes").
// A database that records no version is not guessed at: the Job fails
// and says so.
var RTUpgradeScript = `set -eu
from="$(perl -e '
use strict; use warnings;
use lib "/usr/share/request-tracker5/lib";
use RT; RT::LoadConfig(); RT::Init();
my $attr = RT->System->FirstAttribute("` + RTSchemaVersionAttribute + `");
print $attr ? $attr->Content : "";
')"
to="$(perl -e 'use lib "/usr/share/request-tracker5/lib"; use RT; ` + rtVersionPerl + ` print $version')"
if [ -z "$from" ]; then
  echo "rt-upgrade: the database does not record the RT version of its schema (RT system attribute ` + RTSchemaVersionAttribute + `): upgrade it by hand (rt-setup-database --action upgrade) and record the version" >&2
  exit 1
fi
echo "rt-upgrade: the schema is RT $from; the image runs RT $to"
# --force: no "back up first" prompt; the operator took the backup
# before it created this Job (with spec.protection).
` + rtSetupDatabase + ` --action upgrade --force --upgrade-from "$from" --upgrade-to "$to" </dev/null
perl -e '
use strict; use warnings;
use lib "/usr/share/request-tracker5/lib";
use RT; RT::LoadConfig(); RT::Init();
` + rtVersionPerl + `
my $attr = RT->System->FirstAttribute("` + RTSchemaVersionAttribute + `");
exit 0 if $attr && $attr->Content eq $version;
my ($ok, $msg) = RT->System->SetAttribute(Name => "` + RTSchemaVersionAttribute + `",
    Description => "the RT version of the database schema: the SupportStack operator upgrades from it", Content => $version);
die "rt-upgrade: recording the schema version: $msg\n" unless $ok;
print "rt-upgrade: the schema is now RT $version\n";
'
echo "rt-upgrade: done"
`

// Upgrade is the name of the upgrade Job from image from to image to: one
// per pair, so an upgrade that ran is not run again, and A to B, back to
// A, then to B again runs the last step too. (A step back to an older RT
// fails in the Job: rt-setup-database refuses to go down.)
func (n HelpDeskNames) Upgrade(from, to string) string {
	sum := sha256.Sum256([]byte(from + "\x00" + to))
	return n.HelpDesk + "-upgrade-" + hex.EncodeToString(sum[:])[:10]
}

// RTUpgradeJob runs RTUpgradeScript with o's (the new) image, as the
// database administrator of db (the schema Job's: the managed server's
// superuser, or an external database's own role), once the database
// accepts a connection (AwaitDatabase): its backoff limit is 0, so a first
// connection refused before the NetworkPolicies know the pod would fail
// the upgrade.
func RTUpgradeJob(o RTObjects, db HelpDeskDatabaseConn) *batchv1.Job {
	spec := o.rtPodSpec(corev1.Container{
		Name:    "upgrade",
		Command: AwaitDatabase(db, "/bin/sh", "-c", RTUpgradeScript),
		Env:     rtAdminEnv(db),
	})
	spec.RestartPolicy = corev1.RestartPolicyNever
	setEphemeralStorage(&spec)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: o.labels()},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](0),
			Template:     corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: o.labels()}, Spec: spec},
		},
	}
}
