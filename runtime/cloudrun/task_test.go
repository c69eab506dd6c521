package cloudrun_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/cloudrun"
)

func TestTaskFromEnv(t *testing.T) {
	tests := []struct {
		index, count, attempt string
		want                  cloudrun.Task
		err                   string
	}{
		{"", "", "", cloudrun.Task{Index: 0, Count: 1, Attempt: 0}, ""},
		{"2", "3", "1", cloudrun.Task{Index: 2, Count: 3, Attempt: 1}, ""},
		{"9999", "10000", "", cloudrun.Task{Index: 9999, Count: 10000}, ""},
		{"3", "3", "", cloudrun.Task{}, "CLOUD_RUN_TASK_INDEX=3 is not below CLOUD_RUN_TASK_COUNT=3"},
		{"-1", "3", "", cloudrun.Task{}, `CLOUD_RUN_TASK_INDEX="-1"`},
		{"0", "0", "", cloudrun.Task{}, `CLOUD_RUN_TASK_COUNT="0"`},
		{"0", "x", "", cloudrun.Task{}, `CLOUD_RUN_TASK_COUNT="x"`},
		{"0", "1", "one", cloudrun.Task{}, `CLOUD_RUN_TASK_ATTEMPT="one"`},
	}
	for _, tc := range tests {
		t.Setenv(cloudrun.EnvTaskIndex, tc.index)
		t.Setenv(cloudrun.EnvTaskCount, tc.count)
		t.Setenv(cloudrun.EnvTaskAttempt, tc.attempt)
		got, err := cloudrun.TaskFromEnv()
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%+v: TaskFromEnv() = %+v, %v; want %+v", tc, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%+v: TaskFromEnv() error %v, want %q", tc, err, tc.err)
		}
	}
}

// Every position of every chunk count is run by exactly one task,
// whatever the task count.
func TestTaskPositions(t *testing.T) {
	for chunks := range 12 {
		for count := 1; count <= 12; count++ {
			var all []int
			for i := range count {
				p := cloudrun.Task{Index: i, Count: count}.Positions(chunks)
				if !slices.IsSorted(p) {
					t.Errorf("%d chunks, task %d of %d: positions %v not in order", chunks, i, count, p)
				}
				all = append(all, p...)
			}
			slices.Sort(all)
			want := make([]int, chunks)
			for i := range want {
				want[i] = i
			}
			if !slices.Equal(all, want) {
				t.Errorf("%d chunks, %d tasks: positions %v, want each of %v once", chunks, count, all, want)
			}
		}
	}
	if got := (cloudrun.Task{Index: 1, Count: 3}).Positions(7); !slices.Equal(got, []int{1, 4}) {
		t.Errorf("task 1 of 3, 7 chunks: %v, want [1 4]", got)
	}
}
