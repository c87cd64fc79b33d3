// Package bench compares this module's structures with other Go libraries
// on captured traffic. It is a module of its own so that the peers never
// enter the main module's go.mod.
//
// Run it with captures beside the checkout:
//
//	cd bench && DATAPLANE_TRAFFIC_DIR=../../shared/traffic go test -bench . -benchmem
package bench
