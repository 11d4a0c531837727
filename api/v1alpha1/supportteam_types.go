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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Role of a team member.
// +kubebuilder:validation:Enum=Specialist;Lead;Manager
type Role string

// Roles a member can have. Leads and managers may edit their own SupportTeam.
const (
	RoleSpecialist Role = "Specialist"
	RoleLead       Role = "Lead"
	RoleManager    Role = "Manager"
)

// Channel through which a queue's contacts arrive.
// +kubebuilder:validation:Enum=Phone;Chat;Email;Portal
type Channel string

// Channels. Phone and Chat are answered live (Erlang C, or Erlang A with
// serviceLevel.patience; serviceLevel);
// Email and Portal are worked from a backlog (workload model, responseTargets).
const (
	ChannelPhone  Channel = "Phone"
	ChannelChat   Channel = "Chat"
	ChannelEmail  Channel = "Email"
	ChannelPortal Channel = "Portal"
)

// SupportTeamSpec declares a help-desk team's roster, working hours, queues and
// the demand they must serve.
// +kubebuilder:validation:XValidation:rule="!has(self.members) || self.members.all(m, !has(m.shifts) || m.shifts.all(s, has(self.shifts) && self.shifts.exists(x, x.name == s)))",message="every name in members[].shifts must be one of spec.shifts[].name: add the shift or fix the member's shift list"
// +kubebuilder:validation:XValidation:rule="!has(self.timeOff) || self.timeOff.all(t, has(self.members) && self.members.exists(m, m.name == t.member))",message="every timeOff[].member must be one of spec.members[].name: add the member or fix the time-off entry"
// +kubebuilder:validation:XValidation:rule="!has(self.queues) || self.queues.all(q, !has(q.escalation) || has(q.escalation.toTeam) || self.queues.exists(x, x.name == q.escalation.toQueue))",message="a queue's escalation without toTeam must name another queue of this team in toQueue: add the queue or set escalation.toTeam"
// +kubebuilder:validation:XValidation:rule="!has(self.queues) || self.queues.all(q, !has(q.demand) || !has(q.demand.source) || q.demand.source != 'History') || (has(self.queueBackend) && has(self.queueBackend.requestTracker))",message="demand.source History forecasts from the queue's tickets in Request Tracker: set queueBackend.requestTracker, or use source Declared with demand.intervals"
type SupportTeamSpec struct {
	// displayName is the team's human-readable name, shown in the help desk.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +optional
	DisplayName string `json:"displayName,omitempty"`

	// tier is the support tier the team works at: 1 takes first contact,
	// higher tiers take escalations.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=5
	// +kubebuilder:default=1
	// +optional
	Tier int32 `json:"tier,omitempty"`

	// timeZone is the IANA time zone in which shifts, demand intervals, time
	// off and holidays are written, e.g. America/New_York. Daylight-saving
	// changes follow the zone's rules.
	// +required
	TimeZone TimeZone `json:"timeZone"`

	// shrinkage is the percentage of paid time in which members are not
	// available for contacts (breaks, training, meetings, sick leave), 0-90.
	// Required staff = ceil(required agents / (1 - shrinkage/100)).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=90
	// +kubebuilder:default=30
	// +optional
	Shrinkage int32 `json:"shrinkage"`

	// shifts are the named working patterns members are assigned to.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Shifts []Shift `json:"shifts,omitempty"`

	// members is the team's roster.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=200
	// +optional
	Members []Member `json:"members,omitempty"`

	// timeOff lists absences of members: vacations, training, sick leave.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=500
	// +optional
	TimeOff []TimeOff `json:"timeOff,omitempty"`

	// holidays are the team's public holidays: on a closed one (the
	// default) nobody is scheduled and nobody needs to be; an open one is
	// worked as any other day. See Holiday.
	// +listType=map
	// +listMapKey=date
	// +kubebuilder:validation:MaxItems=100
	// +optional
	Holidays []Holiday `json:"holidays,omitempty"`

	// queues are the work queues the team answers, with their demand forecast
	// and service targets.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Queues []Queue `json:"queues,omitempty"`

	// queueBackend is where queues are materialized. Default: a routing
	// ConfigMap in the team's namespace. It decides which Secret's value the
	// operator sends out and which ConfigMap it writes, so only someone
	// allowed the verb configure-queue-backend on this SupportTeam may set
	// or change it (the ValidatingAdmissionPolicy team-queue-backend; the
	// supportstack admin and editor roles have the verb, team leads do not).
	// +optional
	QueueBackend *QueueBackend `json:"queueBackend,omitempty"`

	// rostering sets the limits a proposed roster keeps (supportstack
	// schedule propose, and the operator when propose is true). The
	// current shifts are not checked against them.
	// +optional
	Rostering *Rostering `json:"rostering,omitempty"`
}

// Rostering holds the team's limits for a proposed roster: shift lengths,
// start times, rest and consecutive days. A proposal gives each member at
// most one shift a day, on the half hour, and repeats it every week.
// +kubebuilder:validation:XValidation:rule="(has(self.minShift) ? duration(self.minShift) : duration('4h')) <= (has(self.maxShift) ? duration(self.maxShift) : duration('10h'))",message="rostering.minShift must not be longer than rostering.maxShift (defaults 4h and 10h)"
// +kubebuilder:validation:XValidation:rule="(has(self.earliestStart) ? self.earliestStart : '00:00') <= (has(self.latestStart) ? self.latestStart : '23:30')",message="rostering.earliestStart must not be after rostering.latestStart (defaults 00:00 and 23:30)"
// +kubebuilder:validation:XValidation:rule="(has(self.latestStart) ? int(self.latestStart.substring(0, 2)) * 60 + int(self.latestStart.substring(3, 5)) : 1410) + (has(self.maxShift) ? duration(self.maxShift).getMinutes() : 600) + (has(self.minRestBetweenShifts) ? duration(self.minRestBetweenShifts).getMinutes() : 660) + 60 <= 2880 + (has(self.earliestStart) ? int(self.earliestStart.substring(0, 2)) * 60 + int(self.earliestStart.substring(3, 5)) : 0)",message="latestStart + maxShift + minRestBetweenShifts + 1h (a clock change) must be at most 48h after earliestStart: rest is checked between consecutive days only, so shorten minRestBetweenShifts or maxShift, or start earlier"
type Rostering struct {
	// minShift is the shortest shift a proposal may give, a multiple of
	// 30 minutes; default 4h.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$')",message="must be a duration such as 4h or 7h30m"
	// +kubebuilder:validation:XValidation:rule="duration(self).getSeconds() % 1800 == 0 && duration(self) > duration('0s') && duration(self) <= duration('16h')",message="must be a multiple of 30 minutes from 30m to 16h, such as 4h or 7h30m"
	// +optional
	MinShift *metav1.Duration `json:"minShift,omitempty"`

	// maxShift is the longest shift a proposal may give, a multiple of 30
	// minutes up to 16h; default 10h.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$')",message="must be a duration such as 10h or 8h30m"
	// +kubebuilder:validation:XValidation:rule="duration(self).getSeconds() % 1800 == 0 && duration(self) > duration('0s') && duration(self) <= duration('16h')",message="must be a multiple of 30 minutes from 30m to 16h, such as 10h or 8h30m"
	// +optional
	MaxShift *metav1.Duration `json:"maxShift,omitempty"`

	// earliestStart is the earliest time of day a proposed shift starts,
	// HH:MM on :00 or :30; default 00:00.
	// +kubebuilder:validation:XValidation:rule="self.endsWith(':00') || self.endsWith(':30')",message="shifts start on the half hour: earliestStart must end in :00 or :30"
	// +kubebuilder:validation:XValidation:rule="self != '24:00'",message="earliestStart must be within the day: write 00:00 for midnight"
	// +optional
	EarliestStart ClockTime `json:"earliestStart,omitempty"`

	// latestStart is the latest time of day a proposed shift starts,
	// HH:MM on :00 or :30; default 23:30.
	// +kubebuilder:validation:XValidation:rule="self.endsWith(':00') || self.endsWith(':30')",message="shifts start on the half hour: latestStart must end in :00 or :30"
	// +kubebuilder:validation:XValidation:rule="self != '24:00'",message="latestStart must be within the day: write 23:30 for the last half hour"
	// +optional
	LatestStart ClockTime `json:"latestStart,omitempty"`

	// minRestBetweenShifts is the least time between the end of a shift
	// and the start of the member's next day's shift, in absolute time
	// (across midnight and clock changes); default 11h.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$')",message="must be a duration such as 11h or 12h30m"
	// +kubebuilder:validation:XValidation:rule="duration(self).getSeconds() % 60 == 0",message="must be whole minutes, such as 11h"
	// +optional
	MinRestBetweenShifts *metav1.Duration `json:"minRestBetweenShifts,omitempty"`

	// maxConsecutiveDays is the most working days in a row, counted over
	// the repeating week (Sunday to Monday included), 1-7; default 6.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=7
	// +optional
	MaxConsecutiveDays int32 `json:"maxConsecutiveDays,omitempty"`

	// propose, when true, has the operator compute a proposed roster when
	// the spec changes (and at least daily) and keep it in the ConfigMap
	// <team>-roster-proposal with a summary in status.proposal. The
	// operator never applies it: a manager reviews it and applies it.
	// +optional
	Propose bool `json:"propose,omitempty"`
}

// Shift is a recurring working pattern: the same hours on the listed days.
// +kubebuilder:validation:XValidation:rule="self.start != '24:00'",message="a shift cannot start at 24:00: write 00:00"
// +kubebuilder:validation:XValidation:rule="self.start != self.end",message="a shift's start and end must differ (end before start means the shift runs past midnight)"
type Shift struct {
	// name identifies the shift; members refer to it.
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=63
	// +required
	Name string `json:"name"`

	// days are the weekdays on which the shift starts.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=7
	// +required
	Days []Weekday `json:"days"`

	// start is the time the shift starts, HH:MM in the team's time zone.
	// +required
	Start ClockTime `json:"start"`

	// end is the time the shift ends, HH:MM in the team's time zone. An end at
	// or before start means the shift runs past midnight into the next day.
	// +required
	End ClockTime `json:"end"`
}

// Member is one person on the team.
type Member struct {
	// name identifies the member inside the team (a DNS label, e.g. alice).
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=63
	// +required
	Name string `json:"name"`

	// email is the member's address; the help desk uses it as their login.
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:XValidation:rule="self.matches('^[^@ ]+@[^@ ]+[.][^@ ]+$')",message="must be an e-mail address such as alice@example.com"
	// +optional
	Email string `json:"email,omitempty"`

	// role is Specialist (default), Lead or Manager. Leads and managers may
	// edit this SupportTeam.
	// +kubebuilder:default=Specialist
	// +optional
	Role Role `json:"role,omitempty"`

	// skills the member has; a member serves the queues whose skills they all have.
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=63
	// +optional
	Skills []string `json:"skills,omitempty"`

	// shifts names the spec.shifts the member works.
	// +listType=set
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MaxLength=63
	// +optional
	Shifts []string `json:"shifts,omitempty"`

	// hoursPerWeek is the member's contracted working hours per week,
	// 1-80; 40 when absent. A proposed roster avoids hours over it (a soft
	// rule, after understaffing).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=80
	// +optional
	HoursPerWeek int32 `json:"hoursPerWeek,omitempty"`

	// availability lists the weekly windows in which the member can work;
	// none means always. A proposed roster puts every half hour of a
	// member's shift inside a window of the day it falls on.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Availability []AvailabilityWindow `json:"availability,omitempty"`
}

// AvailabilityWindow is a recurring window of the week in which a member
// can work.
// +kubebuilder:validation:XValidation:rule="self.from < self.to",message="an availability window's to must be after from on the same day (split a window that crosses midnight in two: 22:00-24:00 and 00:00-06:00 the next day)"
type AvailabilityWindow struct {
	// days on which the window applies.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=7
	// +required
	Days []Weekday `json:"days"`

	// from is the window's start, HH:MM in the team's time zone.
	// +required
	From ClockTime `json:"from"`

	// to is the window's end, HH:MM (24:00 for the end of the day), after from.
	// +required
	To ClockTime `json:"to"`
}

// TimeOff is a member's absence over whole days.
// +kubebuilder:validation:XValidation:rule="self.from <= self.to",message="timeOff.to must be on or after timeOff.from"
type TimeOff struct {
	// member is the name of the absent member.
	// +kubebuilder:validation:MaxLength=63
	// +required
	Member string `json:"member"`

	// from is the first day of absence, inclusive, in the team's time zone.
	// +required
	From Date `json:"from"`

	// to is the last day of absence, inclusive, in the team's time zone.
	// +required
	To Date `json:"to"`

	// reason is free text for the manager (vacation, training...).
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Reason string `json:"reason,omitempty"`
}

// Holiday is a public holiday in the team's calendar. What to write
// depends on whether the help desk works that day:
//
//   - The help desk is closed (Christmas Day, say): write only the date,
//     e.g. {date: "2026-12-25", name: Christmas Day}. No shift that starts
//     on the date is worked and no half-hour that starts on it needs staff,
//     so the day is never understaffed; a night shift starting the evening
//     before still runs into its first hours, counted as overstaffing.
//   - The help desk stays open (the day after Thanksgiving, say): write
//     open: true, e.g. {date: "2026-11-27", name: Black Friday, open: true}.
//     The day is worked like the same weekday without a holiday: its shifts
//     run and its demand counts, in Staffed, the metrics, the roster
//     proposal and the training needs. Whoever of the team has the day off
//     is written in timeOff, as on any other day. The holiday is still
//     listed (the tables name it as open) so reports and forecasts can set
//     it apart.
type Holiday struct {
	// date of the holiday in the team's time zone.
	// +required
	Date Date `json:"date"`

	// name of the holiday, e.g. Christmas Day.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Name string `json:"name,omitempty"`

	// open is true when the help desk works on the holiday: its shifts and
	// its demand count as on any other day (who is off writes time off).
	// Default false: the help desk is closed, no shift starting on the date
	// is worked and the day needs no staff.
	// +optional
	Open bool `json:"open,omitempty"`
}

// Queue is a stream of contacts the team answers.
// +kubebuilder:validation:XValidation:rule="!(self.channel in ['Phone', 'Chat']) || has(self.serviceLevel)",message="Phone and Chat queues need serviceLevel (e.g. {percent: 80, answerWithin: 20s})"
// +kubebuilder:validation:XValidation:rule="!(self.channel in ['Email', 'Portal']) || has(self.responseTargets)",message="Email and Portal queues need responseTargets (e.g. {firstResponse: 4h})"
// +kubebuilder:validation:XValidation:rule="!has(self.escalation) || has(self.escalation.toTeam) || self.escalation.toQueue != self.name",message="a queue cannot escalate to itself: set escalation.toQueue to another queue or escalation.toTeam to another team"
type Queue struct {
	// name identifies the queue (a DNS label).
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=63
	// +required
	Name string `json:"name"`

	// channel is how contacts arrive: Phone, Chat, Email or Portal.
	// +required
	Channel Channel `json:"channel"`

	// skills a member needs, all of them, to work this queue.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=63
	// +required
	Skills []string `json:"skills"`

	// demand is the forecast of contacts for the queue.
	// +optional
	Demand *Demand `json:"demand,omitempty"`

	// serviceLevel is the target for live channels (Phone, Chat): percent of
	// contacts answered within answerWithin.
	// +optional
	ServiceLevel *ServiceLevel `json:"serviceLevel,omitempty"`

	// responseTargets are the targets for backlog channels (Email, Portal).
	// +optional
	ResponseTargets *ResponseTargets `json:"responseTargets,omitempty"`

	// escalation says where unresolved contacts go and when.
	// +optional
	Escalation *Escalation `json:"escalation,omitempty"`
}

// DemandSource says where a queue's arrival rates come from.
// +kubebuilder:validation:Enum=Declared;History
type DemandSource string

// Demand sources.
const (
	// DemandDeclared takes demand.intervals as written.
	DemandDeclared DemandSource = "Declared"
	// DemandHistory forecasts the rates from the queue's tickets.
	DemandHistory DemandSource = "History"
)

// Demand is a queue's contact forecast.
type Demand struct {
	// averageHandleTime is the mean time one contact occupies an agent
	// (talk plus wrap-up), e.g. 3m or 4m30s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$')",message="must be a duration such as 20s, 30m, 4h or 1h30m (units h, m, s, ms; no days: write 48h for 2 days)"
	// +required
	AverageHandleTime metav1.Duration `json:"averageHandleTime"`

	// source is where the operator takes the arrival rates from: Declared
	// (default) uses intervals; History forecasts them from the queue's own
	// tickets in Request Tracker (the team's queueBackend must be
	// requestTracker): per weekday and half-hour, an exponentially weighted
	// average of the last 4 weeks, holidays left out, and the handle time
	// from the tickets' time worked when 30 resolved tickets have one
	// (status.queues[].demand shows what was chosen). intervals and
	// averageHandleTime are then the fallback until a week of tickets has
	// been read.
	// +kubebuilder:default=Declared
	// +optional
	Source DemandSource `json:"source,omitempty"`

	// intervals give the forecast contacts per hour at 30-minute resolution;
	// a time outside every interval has no demand.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Intervals []DemandInterval `json:"intervals,omitempty"`
}

// DemandInterval is the forecast for one recurring window of the week.
// +kubebuilder:validation:XValidation:rule="self.from < self.to",message="a demand interval's to must be after from on the same day (split windows that cross midnight in two)"
// +kubebuilder:validation:XValidation:rule="self.from.endsWith(':00') || self.from.endsWith(':30')",message="demand intervals have 30-minute resolution: from must end in :00 or :30"
// +kubebuilder:validation:XValidation:rule="self.to.endsWith(':00') || self.to.endsWith(':30')",message="demand intervals have 30-minute resolution: to must end in :00 or :30"
type DemandInterval struct {
	// days on which the window applies.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=7
	// +required
	Days []Weekday `json:"days"`

	// from is the window's start, HH:MM (on :00 or :30) in the team's time zone.
	// +required
	From ClockTime `json:"from"`

	// to is the window's end, HH:MM (on :00 or :30), after from.
	// +required
	To ClockTime `json:"to"`

	// contactsPerHour is the forecast arrival rate during the window.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100000
	// +required
	ContactsPerHour int32 `json:"contactsPerHour"`
}

// ServiceLevel is a live-channel target: percent answered within a time.
type ServiceLevel struct {
	// percent of contacts to answer within answerWithin, 1-100.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +required
	Percent int32 `json:"percent"`

	// answerWithin is the answer-time threshold, e.g. 20s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$')",message="must be a duration such as 20s, 30m, 4h or 1h30m (units h, m, s, ms; no days: write 48h for 2 days)"
	// +required
	AnswerWithin metav1.Duration `json:"answerWithin"`

	// maxOccupancy caps agent occupancy (traffic / agents) in percent, 1-100;
	// no cap when absent. With patience, the traffic agents carry (callers
	// who hang up carry none).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxOccupancy *int32 `json:"maxOccupancy,omitempty"`

	// patience is how long callers wait, on average, before they hang up,
	// e.g. 2m (1s to 2h). Set, the queue is staffed with Erlang A (callers
	// who give up leave the queue, and count as not answered within
	// answerWithin); absent, with Erlang C (everyone waits as long as it
	// takes). Estimate it from your own data as the total time callers spent
	// waiting (answered and abandoned) divided by the number who abandoned.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$')",message="must be a duration such as 20s, 30m, 4h or 1h30m (units h, m, s, ms; no days: write 48h for 2 days)"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$') || (duration(self) >= duration('1s') && duration(self) <= duration('2h'))",message="patience must be between 1s and 2h"
	// +optional
	Patience *metav1.Duration `json:"patience,omitempty"`
}

// ResponseTargets are backlog-channel targets.
type ResponseTargets struct {
	// firstResponse is the time within which every contact gets a first reply, e.g. 4h.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$')",message="must be a duration such as 20s, 30m, 4h or 1h30m (units h, m, s, ms; no days: write 48h for 2 days)"
	// +required
	FirstResponse metav1.Duration `json:"firstResponse"`

	// resolution is the time within which contacts should be resolved, e.g. 48h.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$')",message="must be a duration such as 20s, 30m, 4h or 1h30m (units h, m, s, ms; no days: write 48h for 2 days)"
	// +optional
	Resolution *metav1.Duration `json:"resolution,omitempty"`
}

// Escalation routes unresolved contacts to another queue.
type Escalation struct {
	// after is how long a contact may stay unresolved before it escalates, e.g. 30m.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$')",message="must be a duration such as 20s, 30m, 4h or 1h30m (units h, m, s, ms; no days: write 48h for 2 days)"
	// +required
	After metav1.Duration `json:"after"`

	// toTeam is the SupportTeam (same namespace) that receives escalations;
	// this team when absent. Its existence is checked by the reconciler.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ToTeam string `json:"toTeam,omitempty"`

	// toQueue is the queue, in toTeam, that receives escalations.
	// +kubebuilder:validation:MaxLength=63
	// +required
	ToQueue string `json:"toQueue"`
}

// QueueBackend selects where queues are materialized; set at most one.
// +kubebuilder:validation:XValidation:rule="[has(self.configMap), has(self.requestTracker), has(self.helpDesk)].filter(x, x).size() <= 1",message="set only one queue backend: configMap, requestTracker or helpDesk"
type QueueBackend struct {
	// configMap materializes the routing table as a ConfigMap (the default).
	// +optional
	ConfigMap *ConfigMapBackend `json:"configMap,omitempty"`

	// requestTracker materializes queues in a Request Tracker 5 instance
	// through its REST2 API.
	// +optional
	RequestTracker *RequestTrackerBackend `json:"requestTracker,omitempty"`

	// helpDesk materializes queues in the Request Tracker of a HelpDesk of
	// the team's namespace: its queues, group, members and the group's
	// rights on its queues. The operator signs in as RT's service user,
	// whose password the HelpDesk generated and no team lead can read, so
	// the team names no URL and no token.
	// +optional
	HelpDesk *HelpDeskBackend `json:"helpDesk,omitempty"`
}

// HelpDeskBackend names a HelpDesk of the team's namespace.
type HelpDeskBackend struct {
	// name of the HelpDesk, in the SupportTeam's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Name string `json:"name"`
}

// ConfigMapBackend writes the routing table to a ConfigMap.
type ConfigMapBackend struct {
	// name of the ConfigMap; default "<team>-queues". The operator creates
	// it and owns it: a ConfigMap of that name that this SupportTeam does not
	// control is never written or adopted (Ready=False, ConfigMapNotOwned).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Name string `json:"name,omitempty"`
}

// RequestTrackerBackend points at a Request Tracker 5 REST2 API.
type RequestTrackerBackend struct {
	// url is RT's base URL, e.g. https://rt.example.com (REST2 lives under
	// /REST/2.0). It must be https: the token travels in every request.
	// Plain http is accepted only for a loopback host (localhost,
	// 127.0.0.0/8, ::1), for tests. Redirects that leave this URL's origin
	// (scheme, host and port) are not followed.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (self.startsWith('https://') || self.startsWith('http://'))",message="must be an http(s) URL such as https://rt.example.com"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('http://') || self.matches('^http://(localhost|127([.](25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}|[[]::1[]])(:[0-9]{1,5})?(/.*)?$')",message="must be an https URL such as https://rt.example.com: the RT token would travel in the clear over http, which is accepted only for a loopback host (localhost, 127.0.0.0/8, [::1]) in tests"
	// +required
	URL string `json:"url"`

	// tokenSecretRef names the Secret key holding an RT auth token. The
	// Secret must carry the label ops.supportstack.io/secret-use=queue-token:
	// the operator reads no other Secret's value for a queue backend
	// (Ready=False, SecretNotMarked, and nothing is sent, until it does).
	// +required
	TokenSecretRef SecretKeyRef `json:"tokenSecretRef"`
}

// Marking a Secret for the one use the operator may put it to: a queue
// backend sends the token it reads to a URL a SupportTeam names, so it reads
// only Secrets whose owner said they hold such a token.
const (
	// LabelSecretUse on a Secret says what the operator may use it for.
	LabelSecretUse = "ops.supportstack.io/secret-use"
	// SecretUseQueueToken (LabelSecretUse's value) marks a Secret holding a
	// queue backend's token (queueBackend.requestTracker.tokenSecretRef).
	SecretUseQueueToken = "queue-token"
)

// WorstGap is the interval with the largest staffing shortfall.
type WorstGap struct {
	// start of the 30-minute interval, RFC 3339 in the team's time zone.
	Start string `json:"start"`
	// required staff in that interval (after shrinkage).
	Required int32 `json:"required"`
	// scheduled staff in that interval.
	Scheduled int32 `json:"scheduled"`
}

// OnCallContact is the member to escalate a queue's problems to.
type OnCallContact struct {
	// name of the member.
	Name string `json:"name"`
	// email of the member, when the spec gives one.
	// +optional
	Email string `json:"email,omitempty"`
	// role of the member: Lead or Manager.
	Role Role `json:"role"`
	// onShift is whether the member is on shift now (a Manager named when no
	// Lead is on shift may not be).
	OnShift bool `json:"onShift"`
}

// QueueStatus is the observed staffing of one queue.
type QueueStatus struct {
	// name of the queue.
	Name string `json:"name"`
	// peakRequiredAgents is the highest number of agents needed in any
	// interval of the coming 7 days (Erlang C, Erlang A with patience, or
	// workload; before shrinkage).
	// +optional
	PeakRequiredAgents int32 `json:"peakRequiredAgents"`
	// peakRequiredStaff is peakRequiredAgents after shrinkage.
	// +optional
	PeakRequiredStaff int32 `json:"peakRequiredStaff"`
	// understaffedIntervals counts 30-minute intervals in the coming 7 days
	// where scheduled staff is below required staff.
	// +optional
	UnderstaffedIntervals int32 `json:"understaffedIntervals"`
	// worstGap is the interval with the largest shortfall, if any.
	// +optional
	WorstGap *WorstGap `json:"worstGap,omitempty"`
	// onCall is whom to escalate this queue's problems to now: a Lead on
	// shift who has the queue's skills, else any Lead on shift, else a
	// Manager (one on shift first), the first by name at each step. Absent
	// when the team has no Lead on shift and no Manager.
	// +optional
	OnCall *OnCallContact `json:"onCall,omitempty"`
	// externalID is the queue's id in the queue backend, when it has one.
	// +optional
	ExternalID string `json:"externalID,omitempty"`
	// demand is the demand coverage used, for a queue whose demand.source is
	// History: the forecast from its tickets, or the declared intervals
	// while there is too little history.
	// +optional
	Demand *DemandStatus `json:"demand,omitempty"`
	// actual is what the queue's own tickets in Request Tracker show (teams
	// whose queueBackend is requestTracker only), as of status.actualsSyncedAt.
	// +optional
	Actual *QueueActual `json:"actual,omitempty"`
}

// DemandStatus is the demand chosen for a queue whose demand.source is
// History.
type DemandStatus struct {
	// source is History when the rates are forecast from tickets, Declared
	// while the history is too short (message says why).
	Source DemandSource `json:"source"`
	// weeks of ticket history the forecast used (0 to 4).
	// +optional
	Weeks int32 `json:"weeks"`
	// intervals are the forecast rates, in the shape of demand.intervals
	// (paste them into the spec to keep them).
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Intervals []DemandInterval `json:"intervals,omitempty"`
	// averageHandleTime is the mean time worked (RT's TimeWorked) of the
	// queue's resolved tickets of the 28 days, used instead of
	// demand.averageHandleTime when at least 30 of them have one.
	// +optional
	AverageHandleTime *metav1.Duration `json:"averageHandleTime,omitempty"`
	// computedAt is when the forecast was made from the tickets read then.
	// +optional
	ComputedAt *metav1.Time `json:"computedAt,omitempty"`
	// message says how the rates were chosen.
	// +optional
	Message string `json:"message,omitempty"`
}

// QueueActual is what a queue's tickets show over the last 24 hours and the
// last 7 days (tickets created in the window).
type QueueActual struct {
	// last24h covers tickets created in the 24 hours before the sync.
	// +optional
	Last24h ActualWindow `json:"last24h"`
	// last7d covers tickets created in the 7 days before the sync.
	// +optional
	Last7d ActualWindow `json:"last7d"`
}

// ActualWindow is one queue's figures over one window. A first response is
// the first reply by a team member (a member's e-mail is their RT user
// name), measured in the team's business hours (its shifts' span per
// weekday, closed holidays excluded), as RT's service levels measure it.
type ActualWindow struct {
	// volume is the tickets created in the window.
	// +optional
	Volume int32 `json:"volume"`
	// met counts tickets first answered within the queue's
	// responseTargets.firstResponse.
	// +optional
	Met int32 `json:"met"`
	// missed counts tickets first answered after the target, or still
	// unanswered with the target passed.
	// +optional
	Missed int32 `json:"missed"`
	// pending counts tickets still unanswered within their target: left out
	// of the service level, since they may yet be answered in time.
	// +optional
	Pending int32 `json:"pending"`
	// serviceLevelPercent is met / (met + missed) in percent, rounded down;
	// absent when the queue has no response target or no ticket was met or
	// missed.
	// +optional
	ServiceLevelPercent *int32 `json:"serviceLevelPercent,omitempty"`
	// medianFirstResponse is the median first response in business time
	// (nearest rank); absent when no ticket was answered.
	// +optional
	MedianFirstResponse *metav1.Duration `json:"medianFirstResponse,omitempty"`
	// p90FirstResponse is the 90th percentile first response in business
	// time (nearest rank); absent when no ticket was answered.
	// +optional
	P90FirstResponse *metav1.Duration `json:"p90FirstResponse,omitempty"`
}

// SupportTeamStatus is what the operator observed about a team.
type SupportTeamStatus struct {
	// observedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready, Staffed, QueuesSynced, and for teams on Request
	// Tracker ActualsSynced and ServiceLevelMet.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// headcount is the number of members.
	// +optional
	Headcount int32 `json:"headcount"`

	// onShiftNow is the number of members on shift at the last evaluation.
	// +optional
	OnShiftNow int32 `json:"onShiftNow"`

	// onShift names the members on shift at the last evaluation, in name
	// order (onShiftNow counts them).
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=200
	// +kubebuilder:validation:items:MaxLength=63
	// +optional
	OnShift []string `json:"onShift,omitempty"`

	// queues holds per-queue staffing.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Queues []QueueStatus `json:"queues,omitempty"`

	// proposal summarises the latest proposed roster, when
	// spec.rostering.propose is true.
	// +optional
	Proposal *ProposalStatus `json:"proposal,omitempty"`

	// actualsSyncedAt is when the operator last read the team's tickets from
	// Request Tracker and found figures (queues[].actual) different from the
	// ones before: a sync that finds the same figures writes nothing.
	// +optional
	ActualsSyncedAt *metav1.Time `json:"actualsSyncedAt,omitempty"`
}

// ProposalStatus summarises a proposed roster against the current one, over
// the proposal's horizon (one week from a local midnight).
type ProposalStatus struct {
	// configMapName is the ConfigMap, in the team's namespace, holding the
	// whole proposal: the proposed SupportTeam (key team.yaml, applyable
	// with kubectl apply -f) and the diff and figures (key summary.txt).
	// Empty when no proposal could be made (message says why).
	// +optional
	ConfigMapName string `json:"configMapName,omitempty"`

	// observedGeneration is the spec generation the proposal was computed for.
	ObservedGeneration int64 `json:"observedGeneration"`

	// computedAt is when the proposal was computed.
	ComputedAt metav1.Time `json:"computedAt"`

	// understaffedIntervalsNow counts the queue-intervals (queue and half
	// hour) short of staff with the current roster.
	// +optional
	UnderstaffedIntervalsNow int32 `json:"understaffedIntervalsNow"`

	// understaffedIntervalsProposed counts them with the proposed roster.
	// +optional
	UnderstaffedIntervalsProposed int32 `json:"understaffedIntervalsProposed"`

	// staffHalfHoursShortNow is required minus scheduled staff summed over
	// the short queue-intervals, with the current roster.
	// +optional
	StaffHalfHoursShortNow int32 `json:"staffHalfHoursShortNow"`

	// staffHalfHoursShortProposed is the same with the proposed roster.
	// +optional
	StaffHalfHoursShortProposed int32 `json:"staffHalfHoursShortProposed"`

	// overContract is the proposed roster's weekly working time above the
	// members' hoursPerWeek, summed over members, e.g. 2h30m.
	// +optional
	OverContract metav1.Duration `json:"overContract"`

	// message says what the proposal changes, or why there is none.
	// +optional
	Message string `json:"message,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=st,categories=supportstack
// +kubebuilder:printcolumn:name="Tier",type=integer,JSONPath=`.spec.tier`
// +kubebuilder:printcolumn:name="Headcount",type=integer,JSONPath=`.status.headcount`
// +kubebuilder:printcolumn:name="On Shift",type=integer,JSONPath=`.status.onShiftNow`
// +kubebuilder:printcolumn:name="Staffed",type=string,JSONPath=`.status.conditions[?(@.type=="Staffed")].status`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="!has(self.spec.queues) || self.spec.queues.all(q, !has(q.escalation) || !has(q.escalation.toTeam) || q.escalation.toTeam != self.metadata.name || q.escalation.toQueue != q.name)",message="a queue cannot escalate to itself: escalation.toTeam names this team and toQueue this queue"

// SupportTeam declares a help-desk team: roster, shifts, time off, queues and
// demand. The operator checks declared capacity against demand every 30
// minutes of the coming week and materializes the queues.
type SupportTeam struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the team as the manager declares it.
	// +required
	Spec SupportTeamSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status SupportTeamStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// SupportTeamList contains a list of SupportTeam.
type SupportTeamList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SupportTeam `json:"items"`
}

func init() {
	knownTypes = append(knownTypes, &SupportTeam{}, &SupportTeamList{})
}
