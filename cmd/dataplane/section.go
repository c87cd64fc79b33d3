package main

// # Adding a section for your package
//
// The report is a list of sections, one per package. To add yours, create
// ONE new file, cmd/dataplane/<pkg>.go, that registers it from an init
// function; nothing else in the command changes:
//
//	package main
//
//	func init() {
//		register(Section{Name: "bloom", Order: 20, Run: bloomSection})
//	}
//
//	func bloomSection(r *Run) error {
//		keys := r.Keys()
//		// ... build the structure with r.Seed, then time the Go loop:
//		ns := r.TimePer(len(keys), func() {
//			for i := range keys {
//				filter.Add(keys[i].Bytes())
//			}
//		})
//		t := r.Table("measure", "value")
//		t.Row("keys added", len(keys))
//		t.Row("Go add ns/key", ns)
//		return t.Flush()
//	}
//
// flow.go, the flow section, is a complete example.
//
// What a section gets from [Run]:
//
//   - r.Packets and r.Frames: every packet of the input (after
//     -amplify), as Ethernet frames; r.Parsed[i] is flow.Parse(r.Frames[i])
//     (Info and error), computed once for all sections. r.Keys() is the
//     key of every packet that parsed, in packet order (one per packet, so
//     counting gives flow sizes); r.Flows() the distinct keys in order of
//     first appearance.
//   - Options: r.Top (how many rows a "top N" table shows), r.Seed (use it
//     for every hash seed, so runs are reproducible), r.KernelAllowed() and
//     r.KernelRequired() (-kernel auto|on|off: with "off" never load a
//     kernel; with "on" a kernel that cannot load is an error to return;
//     with "auto" print why it was skipped and go on).
//   - Output: the section's heading is printed for you. Use r.Table for
//     aligned columns (text/tabwriter; call Flush at the end), r.Printf for
//     free text, r.TimePer to measure a Go loop (repeated until at least
//     50 ms have passed; returns ns per item), r.Progress for long loops
//     (throttled to one line per second on stderr, silent with -quiet).
//
// Sections run in increasing Order (flow is 10; take the next free tens:
// bloom 20, cms 30, iblt 40, flowradar 50, maglev 60, cheetah 70, hula 80,
// lpm 90). A section that returns an error has it printed on stderr; the
// others still run and the command exits with status 1. Names must be
// unique; register panics on a duplicate, at init time.

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/flow"
)

// Section is one part of the report.
type Section struct {
	Name  string           // short lowercase name, normally the package's
	Order int              // sections run in increasing Order, then by Name
	Run   func(*Run) error // prints the section; an error is reported and the command exits 1
}

var sections []Section

// register adds a section. It is called from init functions and panics on
// an empty or duplicate name or a nil Run, programming errors caught by
// the first run of the command.
func register(s Section) {
	if s.Name == "" || s.Run == nil {
		panic(fmt.Sprintf("dataplane: section %q needs a name and a Run function", s.Name))
	}
	for _, o := range sections {
		if o.Name == s.Name {
			panic(fmt.Sprintf("dataplane: section %q registered twice", s.Name))
		}
	}
	sections = append(sections, s)
}

// sorted returns the sections in running order.
func sorted() []Section {
	out := slices.Clone(sections)
	slices.SortStableFunc(out, func(a, b Section) int {
		if a.Order != b.Order {
			return a.Order - b.Order
		}
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// KernelMode is the -kernel flag.
type KernelMode string

const (
	KernelAuto KernelMode = "auto" // load kernels when the system allows, else say why and skip
	KernelOn   KernelMode = "on"   // kernels are required: failing to load one is an error
	KernelOff  KernelMode = "off"  // never load a kernel
)

// Parsed is the result of flow.Parse for one frame.
type Parsed struct {
	Info flow.Info
	Err  error
}

// Run is what a section gets: the input, its parse results, the options
// and output helpers. Sections may read everything and must modify
// nothing.
type Run struct {
	Trace   string           // what the input is, for headings
	Packets []capture.Packet // every packet, Link is Ethernet
	Frames  [][]byte         // Frames[i] == Packets[i].Data
	Parsed  []Parsed         // Parsed[i] = flow.Parse(Frames[i])
	Top     int              // rows of "top N" tables
	Seed    uint64           // seed for every hash and random choice
	Kernel  KernelMode
	Quiet   bool

	out             io.Writer
	errOut          io.Writer
	keys            []flow.Key
	flows           []flow.Key
	lastProg        time.Time
	progWhat        string   // the step lastProg belongs to
	kernelFrames    [][]byte // see KernelFrames
	kernelSkippedIn string   // the first section whose kernel BPF could not run, see KernelSkipped
}

// KernelAllowed reports whether sections may load kernels (-kernel auto or
// on).
func (r *Run) KernelAllowed() bool { return r.Kernel != KernelOff }

// KernelRequired reports whether a kernel that cannot load is an error
// (-kernel on).
func (r *Run) KernelRequired() bool { return r.Kernel == KernelOn }

// Keys returns the flow key of every packet that parsed, in packet order.
func (r *Run) Keys() []flow.Key {
	if r.keys == nil {
		r.keys = make([]flow.Key, 0, len(r.Parsed))
		for i := range r.Parsed {
			if r.Parsed[i].Err == nil {
				r.keys = append(r.keys, r.Parsed[i].Info.Key)
			}
		}
	}
	return r.keys
}

// Flows returns the distinct keys of [Run.Keys] in order of first
// appearance.
func (r *Run) Flows() []flow.Key {
	if r.flows == nil {
		seen := make(map[flow.Key]struct{})
		r.flows = []flow.Key{}
		for _, k := range r.Keys() {
			if _, ok := seen[k]; !ok {
				seen[k] = struct{}{}
				r.flows = append(r.flows, k)
			}
		}
	}
	return r.flows
}

// Printf prints free text in the section.
func (r *Run) Printf(format string, args ...any) {
	fmt.Fprintf(r.out, format, args...)
}

// Table starts an aligned table with the given column headings. Add rows
// with [Table.Row] and print it with [Table.Flush].
func (r *Run) Table(headings ...string) *Table {
	t := &Table{tw: tabwriter.NewWriter(r.out, 0, 8, 2, ' ', 0)}
	if len(headings) > 0 {
		cells := make([]any, len(headings))
		for i, h := range headings {
			cells[i] = h
		}
		t.Row(cells...)
	}
	return t
}

// Table is an aligned table of a section.
type Table struct{ tw *tabwriter.Writer }

// Row adds a row; cells are printed with %v, floats with formatFloat.
func (t *Table) Row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			io.WriteString(t.tw, "\t")
		}
		switch v := c.(type) {
		case float64:
			io.WriteString(t.tw, formatFloat(v))
		case float32:
			io.WriteString(t.tw, formatFloat(float64(v)))
		default:
			fmt.Fprint(t.tw, v)
		}
	}
	io.WriteString(t.tw, "\n")
}

// formatFloat writes v with 4 significant digits, but a value of 10,000
// or more (below 10^15) whole, without an exponent: a slow run's 16720
// ns/packet reads as 16720, not 1.672e+04.
func formatFloat(v float64) string {
	if a := math.Abs(v); a >= 9999.5 && a < 1e15 { // where %.4g would turn to an exponent
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// Flush prints the table.
func (t *Table) Flush() error { return t.tw.Flush() }

// minMeasure is how long [Run.TimePer] repeats a loop.
const minMeasure = 50 * time.Millisecond

// TimePer runs f (which handles n items) repeatedly until at least 50 ms
// have passed and returns the mean time per item in nanoseconds. It
// returns 0 when n is 0.
func (r *Run) TimePer(n int, f func()) float64 {
	if n <= 0 {
		return 0
	}
	runs := 0
	start := time.Now()
	var el time.Duration
	for el < minMeasure {
		f()
		runs++
		el = time.Since(start)
	}
	return float64(el.Nanoseconds()) / float64(runs) / float64(n)
}

// Progress reports done of total items of a long step on stderr, at most
// once per second and never in a step's first second (never with -quiet).
func (r *Run) Progress(what string, done, total int) {
	if r.Quiet || r.errOut == nil {
		return
	}
	now := time.Now()
	if r.lastProg.IsZero() || what != r.progWhat { // a new step: its clock starts now
		r.lastProg, r.progWhat = now, what
		return
	}
	if now.Sub(r.lastProg) < time.Second {
		return
	}
	r.lastProg = now
	fmt.Fprintf(r.errOut, "dataplane: %s: %d/%d\n", what, done, total)
}
