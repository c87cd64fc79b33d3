package cms

import (
	"math/rand"
	"runtime"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// TestDetector_Lab: a flow passes exactly threshold packets, the last one
// reports the crossing, and every later packet is dropped without counting.
func TestDetector_Lab(t *testing.T) {
	d, err := NewDetector(LabParams(4096, 1), DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	k := flow.MustKey("10.0.1.1", "10.0.2.2", 40000, 80, flow.ProtoTCP)
	var passed, crossed int
	for i := range 1500 {
		drop, c := d.Filter(k.Bytes())
		if !drop {
			passed++
		}
		if c {
			crossed++
			if i != DefaultThreshold-1 {
				t.Fatalf("crossing reported at packet %d, want %d", i, DefaultThreshold-1)
			}
		}
	}
	if passed != DefaultThreshold || crossed != 1 {
		t.Fatalf("passed %d, crossed %d; want %d and 1", passed, crossed, DefaultThreshold)
	}
	if d.Sketch().Total() != DefaultThreshold || d.Sketch().Estimate(k.Bytes()) != DefaultThreshold {
		t.Fatal("dropped packets were counted")
	}
}

// labRef is the lab's detector written plainly: two counter arrays, read
// both, drop if the minimum has reached the threshold, else increment both.
type labRef struct {
	rows [2][]uint32
	w    uint32
	seed uint64
	thr  uint32
}

func (l *labRef) filter(key []byte) (drop, crossed bool) {
	h := flow.Hash64(key, l.seed)
	i, j := flow.Index(h, 0, l.w), flow.Index(h, 1, l.w)
	if min(l.rows[0][i], l.rows[1][j]) >= l.thr {
		return true, false
	}
	l.rows[0][i]++
	l.rows[1][j]++
	return false, min(l.rows[0][i], l.rows[1][j]) == l.thr
}

func TestDetector_MatchesReference(t *testing.T) {
	const w, thr = 64, 50 // small: collisions make innocent flows drop too
	d, _ := NewDetector(LabParams(w, 3), thr)
	ref := &labRef{w: w, seed: 3, thr: thr}
	ref.rows[0], ref.rows[1] = make([]uint32, w), make([]uint32, w)
	stream, keys := zipfStream(8, 20000, 500, 1.2)
	drops, crossings := 0, 0
	for i, f := range stream {
		gd, gc := d.Filter(keys[f].Bytes())
		rd, rc := ref.filter(keys[f].Bytes())
		if gd != rd || gc != rc {
			t.Fatalf("packet %d: (drop, crossed) = (%v, %v), reference (%v, %v)", i, gd, gc, rd, rc)
		}
		if gd {
			drops++
		}
		if gc {
			crossings++
		}
	}
	if drops == 0 || crossings == 0 {
		t.Fatal("stream too gentle: no drops or crossings to compare")
	}
}

func TestFractionDetector(t *testing.T) {
	d, err := NewFractionDetector(Params{Width: 1024, Depth: 4, Seed: 1}, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(1))
	big := []byte("big")
	var crossed int
	for range 1000 {
		if _, c := d.Add(big, 1); c {
			crossed++
		}
		for range 2 {
			k := testKey(uint32(r.Intn(1000)))
			d.Add(k.Bytes(), 1)
		}
	}
	// big holds a third of N: above 0.25 from the start, crossing once.
	if crossed != 1 || d.Threshold() != 750 {
		t.Fatalf("crossed %d times, threshold %d", crossed, d.Threshold())
	}
	for _, phi := range []float64{0, -1, 1.5} {
		if _, err := NewFractionDetector(Params{Width: 8, Depth: 1}, phi); err == nil {
			t.Errorf("phi %v accepted", phi)
		}
	}
	if _, err := NewDetector(Params{Width: 8, Depth: 1}, 0); err == nil {
		t.Error("threshold 0 accepted")
	}
}

// TestDetector_FilterReport checks FilterReport against Filter and a plain
// model of its report cache on a seeded stream over a narrow sketch (so
// that many flows are dropped without crossing, and many share report
// slots): verdicts and crossings equal Filter's; a drop is reported
// exactly when the flow is not the last one reported through its slot; so
// every dropped flow is reported. It also checks that FilterReport does
// not allocate once its cache exists, and that Reset forgets the reports.
func TestDetector_FilterReport(t *testing.T) {
	p := LabParams(64, 7)
	d, _ := NewDetector(p, 20)
	twin, _ := NewDetector(p, 20)
	r := rand.New(rand.NewSource(3))
	z := rand.NewZipf(r, 1.1, 1, 19999)
	last := map[uint32]flow.Key{} // slot -> last flow reported through it
	dropped, reported := map[flow.Key]bool{}, map[flow.Key]bool{}
	var nCrossed, nDropped, repeats int
	for range 200000 {
		k := testKey(uint32(z.Uint64()))
		drop, rep := d.FilterReport(k.Bytes())
		wdrop, wcrossed := twin.Filter(k.Bytes())
		if drop != wdrop || (rep == ReportCrossed) != wcrossed {
			t.Fatalf("%v: FilterReport %v %v, Filter %v %v", k, drop, rep, wdrop, wcrossed)
		}
		slot := flow.Index(k.Hash(7), MaxDepth, ReportSlots)
		prev, held := last[slot]
		wantDropReport := drop && !(held && prev == k)
		if (rep == ReportDropped) != wantDropReport {
			t.Fatalf("%v dropped %v, slot held by %v (%v): report %v", k, drop, prev, held, rep)
		}
		if drop {
			dropped[k] = true
		}
		if rep != ReportNone {
			if reported[k] {
				repeats++
			}
			reported[k] = true
			last[slot] = k
			if rep == ReportCrossed {
				nCrossed++
			} else {
				nDropped++
			}
		}
	}
	for k := range dropped {
		if !reported[k] {
			t.Fatalf("%v dropped, never reported", k)
		}
	}
	if nCrossed == 0 || nDropped == 0 || repeats == 0 {
		t.Fatalf("%d crossings, %d drop reports, %d repeats: the stream does not test every case", nCrossed, nDropped, repeats)
	}
	t.Logf("%d flows dropped; %d crossings and %d drop reports (%d repeats)", len(dropped), nCrossed, nDropped, repeats)
	k := testKey(0)
	if n := testing.AllocsPerRun(100, func() { d.FilterReport(k.Bytes()) }); n != 0 {
		t.Errorf("FilterReport allocates %v times", n)
	}
	d.Reset()
	for i, r := range d.reported {
		if r.used {
			t.Fatalf("Reset left report slot %d holding %#x", i, r.hash)
		}
	}
	if d.Sketch().Total() != 0 {
		t.Fatal("Reset left the sketch")
	}
}

// TestDetector_FilterReportAllocatesOnFirstCall: as FilterReport's doc
// says, its first call allocates the report cache and later ones never
// allocate, even when the first call reports nothing. It used to allocate
// the cache at the first report instead, so a warm-up call that passed a
// packet left a 64 KiB allocation to a later call. The zero Detector
// allocates nothing. Every allocation is counted (testing.AllocsPerRun's
// integer average would round one in many calls down to 0).
func TestDetector_FilterReportAllocatesOnFirstCall(t *testing.T) {
	d, err := NewDetector(LabParams(64, 1), 2)
	if err != nil {
		t.Fatal(err)
	}
	a, b := testKey(1), testKey(2)
	if drop, rep := d.FilterReport(a.Bytes()); drop || rep != ReportNone {
		t.Fatalf("first packet: drop %v, report %v; want a pass with no report", drop, rep)
	}
	var z Detector
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var reps [3]int
	for range 5 { // b crosses at its second packet (a report), then is dropped
		_, rep := d.FilterReport(b.Bytes())
		reps[rep]++
		z.FilterReport(b.Bytes())
	}
	runtime.ReadMemStats(&after)
	if reps[ReportCrossed] != 1 {
		t.Fatalf("reports %v (none, crossed, dropped): want one crossing", reps)
	}
	if n := after.Mallocs - before.Mallocs; n != 0 {
		t.Errorf("FilterReport allocated %d times after its first call, want 0", n)
	}
}

// TestDetector_FilterReportHashZero: a hash of 0 is a flow like any
// other, so an empty report slot (whose hash field is 0) does not count
// as having reported it: its first dropped packet is reported, its second
// is not. Without the slot's used flag no test failed, though a flow of
// hash 0 dropped by its neighbours' packets then went unreported.
func TestDetector_FilterReportHashZero(t *testing.T) {
	d, err := NewDetector(LabParams(1, 2), 1) // one counter a row: flows share them
	if err != nil {
		t.Fatal(err)
	}
	other := uint64(1)
	for flow.Index(other, reportRow, ReportSlots) == flow.Index(0, reportRow, ReportSlots) {
		other++
	}
	if drop, r := d.FilterReportHash(other); drop || r != ReportCrossed {
		t.Fatalf("first packet: drop %v, report %v; want a pass that crosses", drop, r)
	}
	for i, want := range []Report{ReportDropped, ReportNone} {
		if drop, r := d.FilterReportHash(0); !drop || r != want {
			t.Errorf("packet %d of hash 0: drop %v, report %v; want a drop, %v", i+1, drop, r, want)
		}
	}
}

func TestReport_String(t *testing.T) {
	for r, want := range map[Report]string{ReportNone: "none", ReportCrossed: "crossed", ReportDropped: "dropped", 3: "Report(3)", 255: "Report(255)"} {
		if got := r.String(); got != want {
			t.Errorf("Report(%d).String() = %q, want %q", uint8(r), got, want)
		}
	}
}
