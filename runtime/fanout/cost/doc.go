// Package cost prices a render: what each call to a worker costs at list
// prices, and what the whole run will have cost once every chunk is done.
//
// # Formulas
//
// A [Model] is a [Worker] (platform, memory, architecture, CPU) and a
// [Prices] table. [Model.Attempt] prices one call that took d, as the
// caller measured it:
//
//	Lambda:    ceil(d / 1 ms) × 1 ms  × MemoryMB/1024 GB × GB-second price (arm64 or x86_64)
//	           + 1 request
//	Cloud Run: ceil(d / 100 ms) × 100 ms × (CPU × vCPU-second price + MemoryMB/1024 GiB × GiB-second price)
//	           + 1 request
//	local:     0
//
// For example, a 1.5004 s call to a 2048 MB arm64 function is billed
// 1.501 s × 2 GB × $0.0000133334 + $0.0000002 ≈ $0.0000402269.
//
// [Estimate] extrapolates a run: what was spent so far (every attempt,
// retries and failures included), plus the chunks still to do at the mean
// cost of a done chunk. Until a chunk is done there is no mean to go by,
// and Estimate returns what was spent.
//
// # Prices
//
// [Default] holds list prices read on 2026-12-01 from
// https://aws.amazon.com/lambda/pricing/ (us-east-1, the first duration
// tier: x86_64 $0.0000166667 and arm64 $0.0000133334 per GB-second,
// $0.20 per million requests) and https://cloud.google.com/run/pricing
// (a Tier 1 region, request-based billing, that is CPU allocated only
// during requests: $0.000024 per vCPU-second, $0.0000025 per
// GiB-second, $0.40 per million requests). Prices change, and differ by
// region and tier: [LoadPrices] reads a table of one's own from a JSON
// file whose keys are those of [Prices]; a key the file leaves out keeps
// Default's value, an unknown key (they are case-sensitive) or a
// negative price is an error. Give date and source with any price, since
// [Model.Describe] names the date:
//
//	{
//	  "date": "2027-01-15",
//	  "source": "eu-west-1 list prices",
//	  "lambdaGBSecondX86": 0.0000166667,
//	  "lambdaGBSecondARM": 0.0000133334,
//	  "lambdaRequest": 0.0000002,
//	  "runVCPUSecond": 0.000024,
//	  "runGiBSecond": 0.0000025,
//	  "runRequest": 0.0000004
//	}
//
// # What is counted and what is not
//
// Counted: each call's duration at its worker's memory (and CPU on Cloud
// Run) and each request, failed and retried calls included, since they
// are billed too.
//
// Not counted, so that the bill can be higher:
//
//   - Lambda ephemeral storage above the free 512 MB, provisioned
//     concurrency, and the cheaper duration tiers past 6 billion
//     (x86_64) or 7.5 billion (arm64) GB-seconds a month;
//   - Cloud Run instance start-up and shut-down time, minimum instances,
//     instance-based billing (CPU always allocated), and other regions'
//     tiers;
//   - data transfer, the buckets' storage and requests (uploads, the
//     workers' downloads and uploads, the collect), and logs;
//   - the free tiers of both (Lambda's 400,000 GB-seconds and one million
//     requests a month, Cloud Run's 180,000 vCPU-seconds, 360,000
//     GiB-seconds and two million requests), and any discount, committed
//     use or savings plan, and taxes.
//
// And the duration is the caller's, which is a little longer than the
// platform's: it includes the network and, on a cold start, the start
// itself (which Lambda now bills too). On Cloud Run, several requests
// served at once by one instance (a concurrency above 1) share its
// billed time; the model prices each on its own, an upper bound. A
// scaffolded Cloud Run service serves one request at a time.
package cost
