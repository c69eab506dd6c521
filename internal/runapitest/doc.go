// Package runapitest is a stand-in for the Cloud Run Admin API v2 on
// loopback, for tests of code that reads Cloud Run through
// google.golang.org/api/run/v2 (helios-scaffold run's pre-flight, which
// reads a service's scaling and size).
//
//	srv := runapitest.Start(t)
//	srv.PutService(&runapi.GoogleCloudRunV2Service{Name: "projects/p/locations/us-central1/services/helios-worker", ...})
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
// What it answers:
//
//   - GET /v2/projects/P/locations/L/services/S: the service put under
//     that full name, else 404 NOT_FOUND (403 PERMISSION_DENIED for a
//     name given to [Server.Deny], as for a caller without
//     run.services.get);
//   - the API's other operations under /v2/projects/P/locations/L/ (a
//     service's patch and delete, the list and create of services, the
//     custom methods such as :getIamPolicy, and the collections not
//     modelled yet: jobs, executions, operations, ...): 501
//     UNIMPLEMENTED;
//   - a method that the API has on no such path (PUT or POST on a
//     service): 405, with an Allow header, status UNIMPLEMENTED;
//   - anything else: 404 NOT_FOUND.
//
// Every request is recorded ([Server.Requests]) with its method, path,
// query, headers and the status it got, so that a test can check what a
// client asked for and whether it sent credentials. The server checks no
// credentials and keeps no revisions, operations or conditions: a put is
// the service as it is served at once.
//
// The resources live in maps by full name under one mutex, so that the
// API's jobs (jobs.run) and executions can join the services as further
// collections beside them.
package runapitest
