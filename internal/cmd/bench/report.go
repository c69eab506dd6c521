package main

import (
	"fmt"
	"io"
	"slices"
	"time"
)

type row struct {
	what, value, baseline, ratio string
}

type report struct {
	out  io.Writer
	rows []row
}

func (r *report) add(what, value, baseline, ratio string) {
	r.rows = append(r.rows, row{what, value, baseline, ratio})
}

func (r *report) print() {
	fmt.Fprintln(r.out, "| measurement | helios | baseline (same run) | ratio |")
	fmt.Fprintln(r.out, "|---|---|---|---|")
	for _, x := range r.rows {
		fmt.Fprintf(r.out, "| %s | %s | %s | %s |\n", x.what, x.value, x.baseline, x.ratio)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }
