// Package runapitest is a stand-in for the Cloud Run Admin API v2 on
// loopback, for tests of code that reads Cloud Run through
// google.golang.org/api/run/v2 (helios-scaffold run's pre-flight, which
// reads a service's scaling and size) and that runs Cloud Run jobs
// through it (run --target cloudrun-job), with a local task runner that
// starts each task of an execution as a process on this machine.
//
//	srv := runapitest.Start(t)
//	srv.PutService(&runapi.GoogleCloudRunV2Service{Name: "projects/p/locations/us-central1/services/helios-worker", ...})
//	srv.PutJob(&runapi.GoogleCloudRunV2Job{Name: "projects/p/locations/us-central1/jobs/render", ...},
//		runapitest.Binary{Path: taskBinary, Env: append(os.Environ(), gcs.Env())})
//	svc, err := runapi.NewService(ctx, option.WithEndpoint(srv.URL+"/"), option.WithoutAuthentication())
//	// or, for helios-scaffold run: t.Setenv("HELIOS_CLOUDRUN_API", srv.URL+"/") and --no-auth
//
// It speaks the API's REST shapes: a resource is the JSON that the client
// library's own type marshals to (camelCase fields, int64 fields as
// strings), so what a test puts is what the client reads back; an error
// is Google's JSON error, {"error": {"code": 404, "message": "...",
// "status": "NOT_FOUND"}}, which the client turns into a
// *googleapi.Error with that Code.
//
// What it answers, below /v2/projects/P/locations/L/:
//
//   - services/S (GET, services.get): the service put under that full
//     name, else 404 NOT_FOUND;
//   - jobs/J (GET, jobs.get): the job put, with its executionCount and
//     latestCreatedExecution;
//   - jobs/J:run (POST, jobs.run): an execution of the job, its request's
//     overrides applied (taskCount; timeout; each container override's
//     env, set on the container it names, "" for the first), answered
//     as a google.longrunning.Operation named
//     projects/P/locations/L/operations/ID whose metadata is the
//     Execution (with its "@type"), as the API answers;
//   - jobs/J/executions (GET, executions.list, newest first) and
//     jobs/J/executions/E (GET, executions.get): the execution, whose
//     counts (runningCount, succeededCount, failedCount, retriedCount,
//     cancelledCount), startTime, completionTime and conditions (Started,
//     Completed) follow its tasks as they run;
//   - jobs/J/executions/E:cancel (POST, executions.cancel): stops its
//     tasks, which count as cancelled, and answers its operation;
//   - jobs/J/executions/E/tasks (GET, tasks.list, by index) and
//     .../tasks/T (GET, tasks.get): each task's index, retried,
//     lastAttemptResult (exitCode, termSignal, status), startTime and
//     completionTime (of its last attempt) and Completed condition;
//   - operations/ID (GET, operations.get): done once the execution is,
//     with the execution as its response, or an error when it failed;
//   - the API's other operations under /v2/projects/P/locations/L/ (a
//     service's or job's patch and delete, lists and creates, custom
//     methods such as :getIamPolicy): 501 UNIMPLEMENTED;
//   - a method that the API has on no such path: 405, with an Allow
//     header, status UNIMPLEMENTED;
//   - anything else: 404 NOT_FOUND, worded as the API does.
//
// A name given to [Server.Deny] is refused with 403 PERMISSION_DENIED,
// naming the permission (run.services.get, run.jobs.get, run.jobs.run,
// run.executions.get, run.tasks.list, ...).
//
// An execution runs its tasks as Cloud Run would: task i of N is
// started through the job's [TaskRunner] with CLOUD_RUN_TASK_INDEX=i,
// CLOUD_RUN_TASK_COUNT=N, CLOUD_RUN_TASK_ATTEMPT, CLOUD_RUN_JOB and
// CLOUD_RUN_EXECUTION, and the env of the job template's container
// overlaid by the run's overrides; at most the template's parallelism
// run at once (0: all); a task that exits non-zero (or outlives the
// task timeout: the override's, else the template's, else Cloud Run's
// default of 10 minutes) is tried again, up to the template's
// maxRetries (as given: 0 is none, where the real API defaults an unset
// maxRetries to 3). Each attempt is a process group of its own, stopped
// with SIGTERM and, 10 s later, SIGKILL; [Server.Close] stops every
// task that runs and waits for its processes before it returns.
//
// Every request is recorded ([Server.Requests]) with its method, path,
// query, headers and the status it got, so that a test can check what a
// client asked for and whether it sent credentials. The server checks no
// credentials and keeps no revisions; a put is the resource as it is
// served at once.
package runapitest
