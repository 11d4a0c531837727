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
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// The teams of a help desk (SupportTeam queueBackend.helpDesk): the
// operator keeps their queues, groups and members through REST2 as RT's
// service user RTOperatorUser, and their groups' rights on their queues
// with a Job (RTRightsJob), since REST2 cannot set rights.
const (
	// RTOperatorUser is the RT user the operator signs in to REST2 as.
	// The schema Job makes it, with the password in the credentials
	// Secret's HelpDeskOperatorPasswordKey.
	RTOperatorUser = "supportstack-operator"
	// HelpDeskOperatorPasswordKey is the credentials Secret's key of
	// RTOperatorUser's password.
	HelpDeskOperatorPasswordKey = "rt-operator-password"
	// RTOperatorPasswordFileEnv names the file RTOperatorUserPerl reads
	// the password from.
	RTOperatorPasswordFileEnv = "SUPPORTSTACK_OPERATOR_PASSWORD_FILE"

	rtOperatorPasswordIn = "/run/rt-operator"

	// The rights Job's input: the group, the ids of its queues (numbers,
	// comma-separated) and the rights (space-separated).
	RTRightsGroupEnv  = "SUPPORTSTACK_RT_GROUP"
	RTRightsQueuesEnv = "SUPPORTSTACK_RT_QUEUES"
	RTRightsRightsEnv = "SUPPORTSTACK_RT_RIGHTS"
)

// OperatorPassword selects RTOperatorUser's password.
func (n HelpDeskNames) OperatorPassword() corev1.SecretKeySelector {
	return n.credential(HelpDeskOperatorPasswordKey)
}

// Rights is the name of a rights Job of the help desk: one per content
// (key), so a Job that ran is not run again and a change makes a new one.
func (n HelpDeskNames) Rights(key string) string { return n.HelpDesk + "-rights-" + key }

// RTOperatorRights are the global rights RTOperatorUser gets: what a
// team's queue sync does (create and change queues, user-defined groups,
// their members, and users). It sees no ticket and cannot grant a right
// itself; but AdminUsers may set any user's password (root's too) and
// AdminGroupMembership may add to any group, so whoever holds its password
// can make themselves RT's admin: the password is kept beside RT's root
// password, in the credentials Secret, and sent only to the help desk's
// own web Service.
var RTOperatorRights = []string{"AdminQueue", "SeeQueue", "AdminGroup", "AdminGroupMembership", "SeeGroup", "AdminUsers"}

// RTOperatorUserPerl makes RTOperatorUser, privileged, with the password
// in the file $SUPPORTSTACK_OPERATOR_PASSWORD_FILE and exactly the rights
// RTOperatorRights; run it again and it writes nothing (a password that
// still matches is not set again: the retained database of a re-created
// help desk stays as it was). No single quote: it goes into RTSchemaScript
// between single quotes.
var RTOperatorUserPerl = `use strict; use warnings;
use lib "/usr/share/request-tracker5/lib";
use RT; RT::LoadConfig(); RT::Init();
my $name = "` + RTOperatorUser + `";
my @rights = qw(` + strings.Join(RTOperatorRights, " ") + `);
open(my $fh, "<", $ENV{` + RTOperatorPasswordFileEnv + `}) or die "rt-schema: reading the operator password: $!\n";
my $password = do { local $/; <$fh> };
close $fh;
die "rt-schema: the operator password is empty\n" unless length $password;
my $user = RT::User->new(RT->SystemUser);
$user->Load($name);
if (!$user->id) {
    my ($ok, $msg) = $user->Create(Name => $name, Privileged => 1,
        Comments => "The SupportStack operator: keeps the queues, groups and members of SupportTeams with queueBackend.helpDesk");
    die "rt-schema: creating the RT user $name: $msg\n" unless $ok;
    print "rt-schema: made the RT user $name\n";
}
if ($user->Disabled) { my ($ok, $msg) = $user->SetDisabled(0); die "rt-schema: enabling $name: $msg\n" unless $ok }
if (!$user->Privileged) { my ($ok, $msg) = $user->SetPrivileged(1); die "rt-schema: privileging $name: $msg\n" unless $ok }
if (!$user->IsPassword($password)) {
    my ($ok, $msg) = $user->SetPassword($password);
    die "rt-schema: setting the password of $name: $msg\n" unless $ok;
    print "rt-schema: set the password of $name\n";
}
my $principal = $user->PrincipalObj;
my %want = map { $_ => 1 } @rights;
my $acl = RT::ACL->new(RT->SystemUser);
$acl->LimitToPrincipal(Id => $principal->id);  # a user has its rights through its ACL equivalence group
for my $ace (@{ $acl->ItemsArrayRef }) {
    next if $ace->ObjectType eq "RT::System" && delete $want{$ace->RightName};
    my ($ok, $msg) = $ace->Delete;
    die "rt-schema: revoking " . $ace->RightName . " from $name: $msg\n" unless $ok;
    print "rt-schema: revoked " . $ace->RightName . " from $name\n";
}
for my $right (sort keys %want) {
    my ($ok, $msg) = $principal->GrantRight(Right => $right, Object => RT->System);
    die "rt-schema: granting $right to $name: $msg\n" unless $ok;
    print "rt-schema: granted $right to $name\n";
}
`

// RTRightsPerl gives the user-defined group $SUPPORTSTACK_RT_GROUP exactly
// the rights $SUPPORTSTACK_RT_RIGHTS on each queue of
// $SUPPORTSTACK_RT_QUEUES (ids) and nothing else on any queue: a right or a
// queue the team no longer has is revoked. Everything it reads comes from
// the environment, never from its code: a group or queue name is data.
const RTRightsPerl = `use strict; use warnings;
use lib "/usr/share/request-tracker5/lib";
use RT; RT::LoadConfig(); RT::Init();
my $name = $ENV{` + RTRightsGroupEnv + `} // "";
my @queues = grep { length } split /,/, ($ENV{` + RTRightsQueuesEnv + `} // "");
my @rights = grep { length } split / /, ($ENV{` + RTRightsRightsEnv + `} // "");
for (@queues) { die "rt-rights: queue id $_ is not a number\n" unless /^[0-9]+$/ }
my $group = RT::Group->new(RT->SystemUser);
$group->LoadUserDefinedGroup($name);
die "rt-rights: RT has no group $name\n" unless $group->id;
my $principal = $group->PrincipalObj;
my %want;
for my $id (@queues) {
    my $queue = RT::Queue->new(RT->SystemUser);
    $queue->Load($id);
    die "rt-rights: RT has no queue $id\n" unless $queue->id;
    $want{"$id/$_"} = $queue for @rights;
}
my ($granted, $revoked) = (0, 0);
my $acl = RT::ACL->new(RT->SystemUser);
$acl->Limit(FIELD => "PrincipalId", VALUE => $principal->id);
$acl->Limit(FIELD => "ObjectType", VALUE => "RT::Queue");
for my $ace (@{ $acl->ItemsArrayRef }) {
    next if delete $want{$ace->ObjectId . "/" . $ace->RightName};
    my ($ok, $msg) = $ace->Delete;
    die "rt-rights: revoking " . $ace->RightName . " on queue " . $ace->ObjectId . ": $msg\n" unless $ok;
    $revoked++;
}
for my $key (sort keys %want) {
    my ($right) = $key =~ m{/(.*)$};
    my ($ok, $msg) = $principal->GrantRight(Right => $right, Object => $want{$key});
    die "rt-rights: granting $right on queue " . $want{$key}->id . ": $msg\n" unless $ok;
    $granted++;
}
printf "rt-rights: group %s: %d rights on %d queues; %d granted, %d revoked\n", $name, @rights * @queues, scalar @queues, $granted, $revoked;
`

// RTRights is what a rights Job sets: the group's rights on its queues,
// in the database of one help desk.
type RTRights struct {
	Group    string
	QueueIDs []string
	Rights   []string
	// HelpDesk is the HelpDesk's UID: one re-created under the same name
	// has a new RT whose queues may have the same ids, and a Job that ran
	// on the old one says nothing of it.
	HelpDesk string
}

// queues is QueueIDs in numeric order, comma-separated: the same rights
// in any order make the same Job.
func (r RTRights) queues() string {
	ids := slices.Clone(r.QueueIDs)
	slices.SortFunc(ids, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	return strings.Join(ids, ",")
}

// Key is a short digest of r: the rights Job's name ends in it.
func (r RTRights) Key() string {
	sum := sha256.Sum256([]byte(r.HelpDesk + "\x00" + r.Group + "\x00" + r.queues() + "\x00" + strings.Join(r.Rights, " ")))
	return hex.EncodeToString(sum[:])[:10]
}

// RTRightsJob runs RTRightsPerl as RT's pods run (site configuration, RT's
// own non-superuser database role), with o's labels (the help desk's
// "rights" component, which its NetworkPolicies let reach the database)
// and the pod's input in its environment.
func RTRightsJob(o RTObjects, r RTRights) *batchv1.Job {
	spec := o.rtPodSpec(corev1.Container{
		Name:    "rights",
		Command: []string{"perl", "-e", RTRightsPerl},
		Env: []corev1.EnvVar{
			{Name: RTRightsGroupEnv, Value: r.Group},
			{Name: RTRightsQueuesEnv, Value: r.queues()},
			{Name: RTRightsRightsEnv, Value: strings.Join(r.Rights, " ")},
		},
	})
	spec.RestartPolicy = corev1.RestartPolicyNever
	setEphemeralStorage(&spec)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: o.labels()},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](2),
			Template:     corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: maps.Clone(o.Labels)}, Spec: spec},
		},
	}
}

// HelpDeskWebURL is the in-cluster URL of a help desk's web Service.
func HelpDeskWebURL(namespace string, n HelpDeskNames) string {
	return fmt.Sprintf("http://%s.%s.svc", n.Web(), namespace)
}

// OperatorPeer selects the operator's pods (the manager Deployment's
// control-plane label) in its namespace.
func OperatorPeer(namespace string) *networkingv1.NetworkPolicyPeer {
	return &networkingv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: namespace}},
		PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"control-plane": "controller-manager"}},
	}
}
