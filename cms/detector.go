package cms

import (
	"fmt"
	"math"

	"github.com/dataplane-go/dataplane/flow"
)

// DefaultThreshold is the lab's packet threshold (see the package
// documentation).
const DefaultThreshold = 1000

// Detector flags flows whose estimate reaches a threshold: an absolute
// count, as in the heavy-hitter lab (see the package documentation), or a
// fraction phi of the total N.
//
// [Detector.Filter] is the lab's detector (its second version, keyed on the
// 5-tuple), which cms/xdp runs per packet: the lab's counting Bloom filter
// with k = 2 hash functions is a count-min sketch with d = 2 rows (one
// counter per row; the lab draws both indexes from one array). If the flow's
// minimum counter has reached the threshold the packet is dropped and
// nothing is counted; otherwise each of its counters is incremented and the
// packet forwarded. A flow therefore passes at most threshold packets, and
// one whose own packets never reach the threshold can still be dropped when
// colliding flows have filled its counters (the sketch never undercounts, so
// a real heavy hitter is never missed). The lab's P4 code increments before
// comparing with ">"; this package follows the lab's text instead: compare
// the minimum with ">=" first. All this holds for standard update, which
// [LabParams] gives. Over a sketch with [Params.Conservative], which the
// lab and cms/xdp do not have, Filter raises only the counters below the
// new minimum: a flow still passes at most threshold packets and a heavy
// hitter is still never missed, but fewer flows are dropped for their
// neighbours' packets, so verdicts differ from the lab's.
//
// Filter's crossed names the flow whose packet brought the minimum to the
// threshold, which need not be a heavy flow (a small flow can add the last
// increment to counters that others filled), and not every flow that will
// be dropped (one whose counters others filled never crosses).
// [Detector.FilterReport] is what cms/xdp reports to user space: crossings,
// and each flow's first dropped packet unless it was reported already, so
// that every flow the detector drops is named.
//
// [Detector.Add] only counts and reports crossings, for monitoring without
// dropping.
//
// The zero Detector is not valid; use [NewDetector] or
// [NewFractionDetector]. It is harmless, like the zero Sketch: Add counts
// nothing (estimate 0, never crossed), Filter drops and reports nothing,
// Reset does nothing, Threshold is 0 and Sketch returns nil. Not safe for
// concurrent use.
type Detector struct {
	s         *Sketch
	threshold uint32
	phi       float64
	reported  []reportSlot // FilterReport's cache, allocated by its first call
}

// Report says why [Detector.FilterReport] (and the kernel in cms/xdp)
// reported a flow.
type Report uint8

// Reports, equal to enum cms_report of the kernel (a test checks it).
const (
	ReportNone    Report = 0
	ReportCrossed Report = 1 // its packet brought its minimum to the threshold (the packet passed)
	ReportDropped Report = 2 // its first dropped packet, the flow not having been reported before
)

// String returns the report's name: "none", "crossed" or "dropped".
func (r Report) String() string {
	switch r {
	case ReportNone:
		return "none"
	case ReportCrossed:
		return "crossed"
	case ReportDropped:
		return "dropped"
	}
	return fmt.Sprintf("Report(%d)", uint8(r))
}

// ReportSlots is the size of the cache of reported flows that
// [Detector.FilterReport] and the kernel keep: a direct-mapped table of
// flow hashes, the slot of hash h being flow.Index(h, reportRow,
// ReportSlots). 16 bytes a slot (64 KiB; per CPU in the kernel).
const ReportSlots = 4096

// reportRow is the index of [flow.Index] that picks a report slot: beyond
// every sketch row (at most [MaxDepth]), so slots do not follow counters.
const reportRow = MaxDepth

type reportSlot struct {
	hash uint64
	used bool // a hash of 0 is a valid hash
}

// NewDetector returns a detector with an absolute threshold (at least 1)
// over a sketch with dimensions p. The lab uses [LabParams] and
// [DefaultThreshold].
func NewDetector(p Params, threshold uint32) (*Detector, error) {
	if threshold == 0 {
		return nil, fmt.Errorf("cms: threshold must be at least 1, got 0")
	}
	s, err := New(p)
	if err != nil {
		return nil, err
	}
	return &Detector{s: s, threshold: threshold}, nil
}

// NewFractionDetector returns a detector whose threshold is
// max(1, ceil(phi*N)), N being the total counted so far.
func NewFractionDetector(p Params, phi float64) (*Detector, error) {
	if !(phi > 0 && phi <= 1) {
		return nil, fmt.Errorf("cms: phi must be in (0, 1], got %v", phi)
	}
	s, err := New(p)
	if err != nil {
		return nil, err
	}
	return &Detector{s: s, phi: phi}, nil
}

// LabParams returns the lab's sketch: d = 2 rows of w counters and the
// given seed, standard update.
func LabParams(width uint32, seed uint64) Params {
	return Params{Width: width, Depth: 2, Seed: seed}
}

// fraction returns phi*n, snapped to the nearest integer when within a
// relative 1e-15 of it: in floating point 0.07*100 is 7.000000000000001,
// whose ceiling would let a flow with exactly 7% of 100 packets never
// reach a 7% threshold. The product errs by a few ulps at most (about
// 3e-16 relative, float64(n) included), so the tolerance covers it
// without rounding a genuine fraction away: a relative 1e-9 is a whole
// packet once phi*n reaches 1e9 (0.25 * (4e9+1) = 1e9+0.25 became 1e9).
func fraction(phi float64, n uint64) float64 {
	t := phi * float64(n)
	if r := math.Round(t); math.Abs(t-r) <= 1e-15*max(1, t) {
		return r
	}
	return t
}

// Sketch returns the detector's sketch, nil for the zero Detector.
func (d *Detector) Sketch() *Sketch { return d.s }

// seed returns the seed of the detector's sketch (0 for the zero
// Detector, which hashes keys only to ignore them).
func (d *Detector) seed() uint64 {
	if d.s == nil {
		return 0
	}
	return d.s.seed
}

// Threshold returns the current threshold.
func (d *Detector) Threshold() uint32 {
	if d.phi == 0 {
		return d.threshold
	}
	t := math.Ceil(fraction(d.phi, d.s.total))
	return uint32(min(max(t, 1), math.MaxUint32))
}

// Add counts n occurrences of key and returns its new estimate, and whether
// this Add took the estimate from below the threshold to at least it (each
// flow crosses an absolute threshold at most once, since estimates only
// grow).
func (d *Detector) Add(key []byte, n uint32) (est uint32, crossed bool) {
	return d.AddHash(flow.Hash64(key, d.seed()), n)
}

// AddHash is [Detector.Add] for a key whose hash is h.
func (d *Detector) AddHash(h uint64, n uint32) (est uint32, crossed bool) {
	if d.s == nil {
		return 0, false // the zero Detector counts nothing
	}
	before := d.s.EstimateHash(h) < d.Threshold()
	est = d.s.addEstimate(h, n)
	return est, before && est >= d.Threshold()
}

// Filter is one packet of flow key through the lab's detector: drop reports
// that the flow's estimate had reached the threshold (the packet is dropped
// and not counted); otherwise the packet is counted once and forwarded, and
// crossed reports that it brought the estimate to the threshold, the event
// the kernel sends to user space.
func (d *Detector) Filter(key []byte) (drop, crossed bool) {
	return d.FilterHash(flow.Hash64(key, d.seed()))
}

// FilterHash is [Detector.Filter] for a key whose hash is h.
func (d *Detector) FilterHash(h uint64) (drop, crossed bool) {
	if d.s == nil {
		return false, false // the zero Detector drops nothing
	}
	if d.s.EstimateHash(h) >= d.Threshold() {
		return true, false
	}
	_, crossed = d.AddHash(h, 1)
	return false, crossed
}

// FilterReport is [Detector.Filter] with the kernel's reports: report is
// [ReportCrossed] for the packet that brings the flow's estimate to the
// threshold (as Filter's crossed), and [ReportDropped] for a dropped
// packet of a flow not reported before, whose counters other flows may
// have filled. "Reported before" is a cache of [ReportSlots] flow hashes,
// one per slot, that every report stores its flow in: a flow is reported
// again only if another reported flow took its slot since. So every flow
// the detector drops is reported, once per time it (re)gains its slot:
// about one report per heavy flow while fewer than ReportSlots dropped
// flows are active at once; with many more, reports repeat often (at
// worst one per dropped packet).
//
// Use FilterReport or Filter on one detector, not both: Filter leaves the
// cache alone. The first call allocates the cache; later ones never
// allocate.
func (d *Detector) FilterReport(key []byte) (drop bool, report Report) {
	return d.FilterReportHash(flow.Hash64(key, d.seed()))
}

// FilterReportHash is [Detector.FilterReport] for a key whose hash is h.
func (d *Detector) FilterReportHash(h uint64) (drop bool, report Report) {
	if d.reported == nil && d.s != nil { // the first call, as documented; not the zero Detector
		d.reported = make([]reportSlot, ReportSlots)
	}
	drop, crossed := d.FilterHash(h)
	switch {
	case crossed:
		d.remember(h)
		return false, ReportCrossed
	case drop && d.remember(h):
		return true, ReportDropped
	}
	return drop, ReportNone
}

// remember stores h in its report slot and reports whether it was not
// there already (in the kernel: cms_report_once, and cms_detect's
// CMS_REPORT_CROSSED branch).
func (d *Detector) remember(h uint64) bool {
	r := &d.reported[flow.Index(h, reportRow, ReportSlots)]
	if r.used && r.hash == h {
		return false
	}
	*r = reportSlot{hash: h, used: true}
	return true
}

// Reset zeroes the sketch and forgets the reported flows.
func (d *Detector) Reset() {
	if d.s == nil {
		return // the zero Detector
	}
	d.s.Reset()
	clear(d.reported)
}
