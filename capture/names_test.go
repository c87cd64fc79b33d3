package capture_test

import (
	"testing"

	"github.com/dataplane-go/dataplane/capture"
)

// The names the command line and error messages print.
func TestNames(t *testing.T) {
	for l, want := range map[capture.LinkType]string{
		capture.LinkNull:      "null",
		capture.LinkEthernet:  "ethernet",
		capture.LinkDLTRaw:    "raw-ip(12)",
		capture.LinkRaw:       "raw-ip(101)",
		capture.LinkLinuxSLL:  "linux-sll",
		capture.LinkIPv4:      "ipv4",
		capture.LinkIPv6:      "ipv6",
		capture.LinkLinuxSLL2: "linux-sll2",
		105:                   "linktype(105)",
		1<<26 | 1:             "linktype(67108865)",
	} {
		if got := l.String(); got != want {
			t.Errorf("LinkType(%d).String() = %q, want %q", uint32(l), got, want)
		}
	}
	p, err := capture.Pareto(1.2, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range map[*capture.FlowSizes]string{
		&capture.WebSearch:     "web-search",
		&capture.DataMining:    "data-mining",
		&p:                     "pareto(1.2,1,1000)",
		new(capture.FlowSizes): "invalid",
	} {
		if got := d.String(); got != want {
			t.Errorf("FlowSizes.String() = %q, want %q", got, want)
		}
	}
}
