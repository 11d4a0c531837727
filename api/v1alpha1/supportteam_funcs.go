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

// WithDemand returns a copy of the spec in which each queue whose
// demand.source is History takes demand[queue.name] when that is a forecast
// (source History): its intervals, and its averageHandleTime when one was
// estimated. Other queues, and History queues falling back, keep their
// declared demand. The spec itself is not changed.
func (s SupportTeamSpec) WithDemand(demand map[string]*DemandStatus) SupportTeamSpec {
	queues := make([]Queue, len(s.Queues))
	copy(queues, s.Queues)
	for i, q := range queues {
		st := demand[q.Name]
		if q.Demand == nil || q.Demand.Source != DemandHistory || st == nil || st.Source != DemandHistory {
			continue
		}
		d := q.Demand.DeepCopy()
		d.Intervals = st.Intervals
		if st.AverageHandleTime != nil {
			d.AverageHandleTime = *st.AverageHandleTime
		}
		queues[i].Demand = d
	}
	s.Queues = queues
	return s
}

// SpecInUse is the spec with the demand the operator last measured
// coverage with (status.queues[].demand): what `supportstack coverage`,
// `schedule` and `report team` read, so they agree with status for queues
// whose demand comes from history.
func (o *SupportTeam) SpecInUse() SupportTeamSpec {
	demand := make(map[string]*DemandStatus, len(o.Status.Queues))
	for _, q := range o.Status.Queues {
		demand[q.Name] = q.Demand
	}
	return o.Spec.WithDemand(demand)
}

// QueuesInBackend are the names of the queues the queue backend holds as
// the team's (status gives them an externalID), in status order: the queues
// whose tickets the operator and `supportstack` read.
func (o *SupportTeam) QueuesInBackend() []string {
	var names []string
	for _, q := range o.Status.Queues {
		if q.ExternalID != "" {
			names = append(names, q.Name)
		}
	}
	return names
}
