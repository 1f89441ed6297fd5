package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"unicode/utf8"
)

// Results is bench/out/results.json (bench/README.md documents it).
type Results struct {
	Version int     `json:"version"`
	Date    string  `json:"date"`
	Machine Machine `json:"machine"`
	Reps    int     `json:"reps"`
	// Flags are the extra 'sandbox run' flags of each sandbox column
	// (-flags, -before-flags), when there were any.
	Flags  map[string][]string `json:"flags,omitempty"`
	Shapes []*ShapeResult      `json:"shapes"`
}

// Machine is what the figures were measured on.
type Machine struct {
	CPUs      int     `json:"cpus"`
	CPUModel  string  `json:"cpu_model,omitempty"`
	MemoryGiB float64 `json:"memory_gib,omitempty"`
	Kernel    string  `json:"kernel,omitempty"`
	OS        string  `json:"os"`
	Go        string  `json:"go"`
	Python    string  `json:"python,omitempty"`
}

// ShapeResult is one row: every sample of every implementation.
type ShapeResult struct {
	Key    string `json:"key"`
	Name   string `json:"name"`
	Unit   string `json:"unit"`
	Target string `json:"target,omitempty"`
	// Samples are the values of each repetition, by implementation.
	Samples map[string][]float64 `json:"samples"`
	// Extra are other figures of each repetition, by implementation and
	// name (mib_per_s, host_mib, ...).
	Extra map[string]map[string][]float64 `json:"extra,omitempty"`
	// Median of Samples, and the sandbox's median over CPython fork's.
	Median      map[string]float64 `json:"median"`
	RatioToFork float64            `json:"ratio_to_fork,omitempty"`
	Errors      []string           `json:"errors,omitempty"`
	// Notes say why a stepped shape stopped where it did.
	Notes []string `json:"notes,omitempty"`
}

// summarize computes the medians and the ratio.
func (r *ShapeResult) summarize() {
	r.Median = map[string]float64{}
	for impl, xs := range r.Samples {
		r.Median[impl] = median(xs)
	}
	if f, ok := r.Median[implPythonFork]; ok && f > 0 {
		if s, ok := r.Median[implSandbox]; ok {
			r.RatioToFork = s / f
		}
	}
}

// median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// printTable writes the medians, one row per shape.
func printTable(w io.Writer, res *Results) {
	m := res.Machine
	fmt.Fprintf(w, "%s, %d CPUs, %.0f GiB, %s, %s; %s; medians of %d, interleaved\n\n",
		m.CPUModel, m.CPUs, m.MemoryGiB, m.Go, m.Python, res.Date[:10], res.Reps)
	for _, impl := range slices.Sorted(maps.Keys(res.Flags)) {
		fmt.Fprintf(w, "%s runs with %s\n", impl, strings.Join(res.Flags[impl], " "))
	}
	if len(res.Flags) > 0 {
		fmt.Fprintln(w)
	}
	// Numbers align right; names are padded to the widest so they align
	// left.
	width := 0
	for _, r := range res.Shapes {
		width = max(width, utf8.RuneCountInString(r.Name))
	}
	pad := func(s string) string { return s + strings.Repeat(" ", width-utf8.RuneCountInString(s)) }
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	before := false
	for _, r := range res.Shapes {
		_, ok := r.Median[implBefore]
		before = before || ok
	}
	if before {
		fmt.Fprintln(tw, pad("shape")+"\tunit\tsandbox\tbefore\tpython fork\tpython spawn\tsandbox/fork\tbefore/fork\t")
	} else {
		fmt.Fprintln(tw, pad("shape")+"\tunit\tsandbox\tpython fork\tpython spawn\tsandbox/fork\t")
	}
	for _, r := range res.Shapes {
		cell := func(impl string) string {
			v, ok := r.Median[impl]
			if !ok {
				return "-"
			}
			return number(v)
		}
		ratio := "-"
		if r.RatioToFork > 0 {
			ratio = fmt.Sprintf("%.2fx", r.RatioToFork)
		}
		if before {
			ratioBefore := "-"
			if b, f := r.Median[implBefore], r.Median[implPythonFork]; b > 0 && f > 0 {
				ratioBefore = fmt.Sprintf("%.2fx", b/f)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", pad(r.Name), r.Unit, cell(implSandbox), cell(implBefore), cell(implPythonFork), cell(implPythonSpawn), ratio, ratioBefore)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", pad(r.Name), r.Unit, cell(implSandbox), cell(implPythonFork), cell(implPythonSpawn), ratio)
		}
	}
	tw.Flush()
	var notes []string
	for _, r := range res.Shapes {
		for _, impl := range []string{implSandbox, implBefore, implPythonFork, implPythonSpawn} {
			ex := r.Extra[impl]
			if len(ex) == 0 {
				continue
			}
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(ex)) {
				parts = append(parts, fmt.Sprintf("%s %s", k, number(median(ex[k]))))
			}
			notes = append(notes, fmt.Sprintf("  %s, %s: %s", r.Key, impl, strings.Join(parts, ", ")))
		}
		for _, e := range r.Errors {
			notes = append(notes, fmt.Sprintf("  %s FAILED %s", r.Key, firstLineOf(e)))
		}
		for _, e := range r.Notes {
			notes = append(notes, fmt.Sprintf("  %s: %s", r.Key, lastLineOf(e)))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nother figures (medians):")
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
}

// number prints v with three significant digits or so.
func number(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// lastLineOf is the last line of s that is not empty (of a failed run's
// error, its output's tail: the verdict).
func lastLineOf(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// signalContext is cancelled by SIGINT or SIGTERM: the running command is
// killed and the figures so far are still printed and written.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
