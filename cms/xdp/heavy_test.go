package xdp

import (
	"slices"
	"testing"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
)

// TestHeavyFlows: reports that repeat a flow (on another CPU, or after its
// report slot was taken) name it once, at its first report.
func TestHeavyFlows(t *testing.T) {
	a := flow.MustKey("10.0.0.1", "10.0.0.2", 1, 53, flow.ProtoUDP)
	b := flow.MustKey("10.0.0.3", "10.0.0.4", 1, 53, flow.ProtoUDP)
	c := flow.MustKey("2001:db8::1", "2001:db8::2", 1, 80, flow.ProtoTCP)
	events := []Event{
		{Key: a, CPU: 0, Report: cms.ReportCrossed},
		{Key: b, CPU: 0, Report: cms.ReportDropped},
		{Key: a, CPU: 1, Report: cms.ReportCrossed}, // the same flow on another CPU
		{Key: c, CPU: 1, Report: cms.ReportCrossed},
		{Key: b, CPU: 0, Report: cms.ReportDropped}, // b took its slot back
	}
	if got, want := HeavyFlows(events), []flow.Key{a, b, c}; !slices.Equal(got, want) {
		t.Errorf("HeavyFlows = %v, want %v", got, want)
	}
	if got := HeavyFlows(nil); got != nil {
		t.Errorf("HeavyFlows(nil) = %v, want nil", got)
	}
}
