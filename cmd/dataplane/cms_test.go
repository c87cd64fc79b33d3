package main

import (
	"bytes"
	"fmt"
	"regexp"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestCmsKernel_MoreReportsThanTheRingHolds: the kernel detector's reports
// go through a ring buffer of 3,276 events. A trace whose detector reports
// more than that (4,000 flows of 22 packets each, all over the lowered
// threshold of 20) must still compare the kernel's reports with Go's, not
// fail the run because the ring filled before it was read.
func TestCmsKernel_MoreReportsThanTheRingHolds(t *testing.T) {
	kerneltest.Require(t)
	const flows, perFlow = 4000, 22
	var out bytes.Buffer
	r := &Run{Seed: 1, Kernel: KernelOn, Quiet: true, out: &out}
	for p := 0; p < perFlow; p++ {
		for i := 0; i < flows; i++ {
			f := pkt.UDP4(fmt.Sprintf("10.2.%d.%d:4000", i>>8, i&255), fmt.Sprintf("10.3.%d.%d:53", i&255, i>>8), nil)
			info, err := flow.Parse(f)
			r.Frames = append(r.Frames, f)
			r.Parsed = append(r.Parsed, Parsed{Info: info, Err: err})
		}
	}
	line, err := cmsKernelReport(r)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	m := regexp.MustCompile(`(\d+) reports naming (\d+) heavy flows \(Go model: (\d+) reports, same keys in the same order: true\)`).FindStringSubmatch(out.String())
	if m == nil || m[1] != m[3] || m[2] != fmt.Sprint(flows) {
		t.Errorf("kernel detector line does not report every flow, as Go does:\n%s\n%s", out.String(), line)
	}
}
