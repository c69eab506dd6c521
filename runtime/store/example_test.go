package store_test

import (
	"fmt"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

func ExampleParseLocation() {
	for _, s := range []string{
		"s3://renders/jobs/job-42.json",
		"gs://renders",
		"file:///srv/jobs/job.json",
		"jobs/job.json",
	} {
		l := store.ParseLocation(s)
		fmt.Printf("%q %q %q local=%v job=%s\n", l.Scheme, l.Bucket, l.Key, l.Local(), l.JobName())
	}
	// Output:
	// "s3" "renders" "jobs/job-42.json" local=false job=job-42
	// "gs" "renders" "" local=false job=job
	// "file" "" "/srv/jobs/job.json" local=true job=job
	// "" "" "jobs/job.json" local=true job=job
}
