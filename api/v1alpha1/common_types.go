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

// Labels and annotations the operator puts on or reads from objects.
const (
	// LabelManagedBy is the standard label naming the operator on every object it creates.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of LabelManagedBy.
	ManagedByValue = "supportstack-operator"
)

// CronSchedule is a standard 5-field cron expression (minute hour
// day-of-month month day-of-week), or one of the macros @hourly, @daily,
// @midnight, @weekly, @monthly, @yearly, @annually. Ranges (1-5), lists (1,3)
// and steps (*/15) are allowed; months and weekdays also take three-letter
// names (JAN, MON). The time zone comes from the sibling timeZone field, so
// CRON_TZ= and TZ= prefixes are refused.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=128
// +kubebuilder:validation:XValidation:rule="self.matches('(?i)^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|([*]|[0-5]?[0-9](-[0-5]?[0-9])?)(/[0-9]+)?(,([*]|[0-5]?[0-9](-[0-5]?[0-9])?)(/[0-9]+)?)* +([*]|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/[0-9]+)?(,([*]|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/[0-9]+)?)* +([*]|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/[0-9]+)?(,([*]|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/[0-9]+)?)* +([*]|(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(-(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))?)(/[0-9]+)?(,([*]|(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(-(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))?)(/[0-9]+)?)* +([*]|([0-6]|SUN|MON|TUE|WED|THU|FRI|SAT)(-([0-6]|SUN|MON|TUE|WED|THU|FRI|SAT))?)(/[0-9]+)?(,([*]|([0-6]|SUN|MON|TUE|WED|THU|FRI|SAT)(-([0-6]|SUN|MON|TUE|WED|THU|FRI|SAT))?)(/[0-9]+)?)*)$')",message="must be a 5-field cron expression \"minute hour day-of-month month day-of-week\" with minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-6 (e.g. \"0 2 * * *\" for 02:00 daily), or @hourly/@daily/@weekly/@monthly/@yearly"
type CronSchedule string

// TimeZone is an IANA time zone name such as Europe/Warsaw, America/New_York or UTC.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=64
// +kubebuilder:validation:XValidation:rule="self != 'Local' && self.matches('^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$') && timestamp('2000-01-01T00:00:00Z').getHours(self) >= 0",message="must be an IANA time zone name such as Europe/Warsaw, America/New_York or UTC"
type TimeZone string

// ClockTime is a wall-clock time of day, HH:MM on a 24-hour clock, in the
// time zone of the enclosing object. 24:00 means the end of the day.
// +kubebuilder:validation:XValidation:rule="self.matches('^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$')",message="must be a 24-hour time HH:MM such as 07:00 or 15:30 (24:00 for the end of the day)"
// +kubebuilder:validation:MaxLength=5
type ClockTime string

// Date is a calendar date, YYYY-MM-DD, in the time zone of the enclosing object.
// +kubebuilder:validation:MaxLength=10
// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$') && int(self.substring(8, 10)) <= (self.substring(5, 7) == '02' ? ((int(self.substring(0, 4)) % 4 == 0 && (int(self.substring(0, 4)) % 100 != 0 || int(self.substring(0, 4)) % 400 == 0)) ? 29 : 28) : (self.substring(5, 7) in ['04', '06', '09', '11'] ? 30 : 31))",message="must be a calendar date YYYY-MM-DD such as 2026-12-24"
type Date string

// Weekday is a day of the week, written as its three-letter English abbreviation.
// +kubebuilder:validation:Enum=Mon;Tue;Wed;Thu;Fri;Sat;Sun
type Weekday string

// SecretKeyRef names one key of a Secret in the object's own namespace.
type SecretKeyRef struct {
	// name of the Secret, in the same namespace as the object that refers to it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// key inside the Secret's data whose value is used.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Key string `json:"key"`
}

// SecretRef names a whole Secret in the object's own namespace.
type SecretRef struct {
	// name of the Secret, in the same namespace as the object that refers to it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}
