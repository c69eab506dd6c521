package fanout

// What the external tests read of the retry's judgement: they import the
// platforms (runtime/awslambda), which import this package through the
// worker's merge mode (runtime/worker/merge), so that they cannot be
// tests of the package itself.

// Outcome is what the runner makes of an answer.
type Outcome = outcome

// The outcomes.
const (
	Succeeded     = succeeded
	Transient     = transient
	CommandFailed = commandFailed
	Permanent     = permanent
)

// Classify and KindOutcome are classify and kindOutcome.
var (
	Classify    = classify
	KindOutcome = kindOutcome
)
