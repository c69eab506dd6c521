// Package quota reads, before a run fans out, how many chunks its worker
// can really take at once, and what the worker is given, so that
// helios-scaffold run can lower --concurrency to the limit (and say why)
// instead of meeting throttling, and price the run (runtime/fanout/cost).
//
// # Lambda
//
// [Lambda] reads three things, each with its own permission:
//
//   - GetFunctionConfiguration (lambda:GetFunctionConfiguration): the
//     function's memory and architecture, for the cost model;
//   - GetFunctionConcurrency (lambda:GetFunctionConcurrency): its
//     reserved concurrency, which, when set, is the limit; 0 means Lambda
//     throttles every invoke, which is an error ([ErrThrottled]);
//   - GetAccountSettings (lambda:GetAccountSettings), only when there is
//     no reservation: the account's unreserved concurrency in the region,
//     which all functions without a reservation share, is the limit.
//     When the reservation could not be read, the account's whole
//     concurrency is, which no function can exceed.
//
// A missing function is an error ([ErrNoService]). A denied read is not:
// many users may invoke a function without being allowed to read the
// account's settings. The Limits then say what could be read, and Why
// names what was denied. The limit is what the account allows, not what
// is free: other functions running at the same time use the same pool.
//
// # Cloud Run
//
// [CloudRun] reads the service (run.services.get, which
// roles/run.viewer grants) through the Cloud Run Admin API v2. The limit
// is its maximum instances (100, Cloud Run's default, when none is set)
// times the requests an instance takes at once
// (maxInstanceRequestConcurrency); the Worker is the containers' CPU and
// memory limits, parsed as Kubernetes quantities ("2", "1000m", "4Gi",
// "512Mi", "4G"). A missing service is an error ([ErrNoService]); a
// denied read (HTTP 403) is not, and leaves the Limits unknown. The
// project's regional quotas of instances and CPU are not read.
//
// # Permissions
//
// For the pre-flight to say everything, the identity that runs
// helios-scaffold run needs, besides lambda:InvokeFunction:
//
//	lambda:GetFunctionConfiguration, lambda:GetFunctionConcurrency and
//	lambda:GetAccountSettings (the last on resource "*")
//
// and on Cloud Run, besides run.routes.invoke:
//
//	run.services.get
package quota
