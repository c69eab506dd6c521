package gcsstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"google.golang.org/api/option"

	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/runtime/gcsstore"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// The generated main.go wires the store for gs:// locations: job specs,
// asset folders and outputs.
func ExampleNew() {
	w := worker.New(worker.ConfigFromEnv(), worker.WithDefaultSource("gs", gcsstore.New()))
	_ = w
}

func ExampleWithClientOptions() {
	st := gcsstore.New(
		gcsstore.WithClientOptions(option.WithUserAgent("helios-worker")),
		gcsstore.WithChunkSize(16<<20), // fewer requests, 16 MiB more memory
	)
	_ = st
}

// The store against fake-gcs-server, through STORAGE_EMULATOR_HOST.
func Example_emulator() {
	srv, err := gcstest.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	srv.PutObject("renders", "job-42/assets/logo.png", []byte("png"))
	srv.PutObject("renders", "job-42/assets/fonts/inter.woff2", []byte("woff2"))
	srv.PutObject("renders", "job-42/assets2/not-listed.png", []byte("png"))
	defer os.Setenv(gcsstore.EmulatorHostEnv, os.Getenv(gcsstore.EmulatorHostEnv))
	os.Setenv(gcsstore.EmulatorHostEnv, srv.Host())

	ctx := context.Background()
	st := gcsstore.New()
	objs, err := st.List(ctx, "gs://renders/job-42/assets")
	for _, o := range objs {
		fmt.Print(o.Path, " ", o.Size, ", ")
	}
	fmt.Println(err)

	err = st.Put(ctx, "gs://renders/job-42/out/chunk_0.mp4", strings.NewReader("frames"), 6)
	fmt.Println(err)
	rc, err := st.Open(ctx, "gs://renders/job-42/out/chunk_0.mp4")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	fmt.Printf("%s %v\n", data, err)

	_, err = st.Open(ctx, "gs://renders/job-43.json")
	fmt.Println(errors.Is(err, store.ErrNotFound), err)
	// Output:
	// fonts/inter.woff2 5, logo.png 3, <nil>
	// <nil>
	// frames <nil>
	// true gs://renders/job-43.json: not found
}
