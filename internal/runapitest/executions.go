package runapitest

import (
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	runapi "google.golang.org/api/run/v2"
)

// setCondition sets the condition of type typ in conds.
func setCondition(conds *[]*runapi.GoogleCloudRunV2Condition, typ, state, reason, message string) {
	c := condition(*conds, typ)
	if c == nil {
		c = &runapi.GoogleCloudRunV2Condition{Type: typ}
		*conds = append(*conds, c)
	}
	c.State, c.ExecutionReason, c.Message, c.LastTransitionTime = state, reason, message, stamp()
}

// condition is the condition of type typ in conds, or nil.
func condition(conds []*runapi.GoogleCloudRunV2Condition, typ string) *runapi.GoogleCloudRunV2Condition {
	for _, c := range conds {
		if c.Type == typ {
			return c
		}
	}
	return nil
}

// stamp is now as the API writes a time.
func stamp() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// locationOf is projects/P/locations/L of a resource's full name.
func locationOf(name string) string {
	parts := strings.SplitN(name, "/", 5)
	return strings.Join(parts[:min(4, len(parts))], "/")
}

// randomID is n random lower-case letters and digits, as the API ends
// an execution's name.
func randomID(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

// uuid is a random UUID, as the API gives uids and operation ids.
func uuid() string {
	const hex = "0123456789abcdef"
	b := make([]byte, 36)
	for i := range b {
		b[i] = hex[rand.IntN(16)]
	}
	b[8], b[13], b[18], b[23] = '-', '-', '-', '-'
	b[14] = '4'
	return string(b)
}

// Execution returns a copy of the execution called name (its full
// name), as executions.get answers it, and false when there is none.
func (s *Server) Execution(name string) (*runapi.GoogleCloudRunV2Execution, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.executions[name]
	if !ok {
		return nil, false
	}
	var res runapi.GoogleCloudRunV2Execution
	copyJSON(&x.res, &res)
	return &res, true
}

// Executions are the full names of the executions of job, oldest first.
func (s *Server) Executions(job string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var xs []*runapi.GoogleCloudRunV2Execution
	for _, x := range s.executions {
		if strings.HasPrefix(x.res.Name, job+"/executions/") {
			xs = append(xs, &x.res)
		}
	}
	slices.SortFunc(xs, func(a, b *runapi.GoogleCloudRunV2Execution) int { return strings.Compare(a.CreateTime, b.CreateTime) })
	var names []string
	for _, x := range xs {
		names = append(names, x.Name)
	}
	return names
}

// Done returns a channel that is closed once the execution called name
// has completed (every task succeeded, failed for good or was
// cancelled); nil when there is no such execution.
func (s *Server) Done(name string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if x, ok := s.executions[name]; ok {
		return x.done
	}
	return nil
}

// TaskOutput is what the attempts of the task called name (its full
// name) wrote on stdout and stderr, each after a line naming it.
func (s *Server) TaskOutput(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.executions {
		for i, t := range x.tasks {
			if t.Name == name {
				return x.output[i].String()
			}
		}
	}
	return ""
}
