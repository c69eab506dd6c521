// Package cloudrun runs a Helios render worker as a Google Cloud Run
// service.
//
// A Cloud Run main is a signal context and one call:
//
//	func main() {
//		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
//		defer stop()
//		if err := cloudrun.Serve(ctx, worker.New(worker.ConfigFromEnv())); err != nil {
//			log.Fatal(err)
//		}
//	}
//
// [Serve] listens on all interfaces on $PORT (8080 when unset). Each POST
// whose JSON body is {"jobPath": ..., "chunkIndex": ...} runs one chunk in
// its own workspace and is answered as the Helios wire contract's HTTP
// table says. A client that goes away cancels its chunk. When ctx is done
// (SIGTERM) the server stops accepting, lets running chunks finish within
// [worker.Config].ShutdownGrace (under Cloud Run's 10 s), cancels what is
// left, and returns nil.
//
// Logs are JSON lines with severity and message, as Cloud Logging reads
// them, carrying logging.googleapis.com/trace when a request brings
// X-Cloud-Trace-Context.
//
// The matching caller is in package runtime/cloudrun/runcaller.
package cloudrun
