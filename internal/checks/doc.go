// Package checks runs the platforms' own validators on generated files, so
// that tests across the repository judge a Dockerfile, a Cloud Run
// service.yaml or an AWS SAM template the way Docker, Cloud Run and
// CloudFormation would, not by string matching.
//
//   - [Dockerfile] parses and lints a Dockerfile with BuildKit's own
//     frontend, the rules behind docker build --check, fully offline.
//   - [Service] decodes a service.yaml strictly into the Cloud Run Admin
//     API's v1 Service, as gcloud run services replace reads it.
//   - [CFNLint] runs the cfn-lint command on a CloudFormation or SAM
//     template and accepts it only without errors or warnings; it returns
//     [ErrNoCFNLint] when cfn-lint is not installed.
//   - [StateMachineDefinition] extracts the Amazon States Language
//     definition of a SAM state machine, substitutions made;
//     [ValidateStateMachine] checks it against the JSON Schema of the
//     subset helios-scaffold uses (asl.schema.json) and resolves every
//     Next; [StateMachineCFNLint] runs cfn-lint's own check of
//     definitions, which it skips in SAM templates.
package checks
