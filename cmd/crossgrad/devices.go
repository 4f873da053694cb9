package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/spf13/cobra"
)

func newDevicesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "devices",
		Short: "List every OpenCL and Vulkan device found, and why any backend is unavailable",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			printDevices(cmd.OutOrStdout(), backend.Enumerate())
			return nil
		},
	}
}

func printDevices(w io.Writer, found []backend.Found) {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tVENDOR\tNAME\tDRIVER\tMEMORY\tMAX ALLOC\tCUs\tMAX WG\tLOCAL MEM")
	for _, f := range found {
		if f.Err != nil {
			fmt.Fprintf(tw, "%s\tunavailable\t\t%v\t\t\t\t\t\t\n", f.Backend, f.Err)
			continue
		}
		if len(f.Devices) == 0 {
			fmt.Fprintf(tw, "%s\tnone\t\tno devices reported by the driver\t\t\t\t\t\t\n", f.Backend)
		}
		for _, d := range f.Devices {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d MiB\t%d MiB\t%d\t%d\t%d KiB\n",
				d.ID(), d.Type, d.Vendor, d.Name, d.DriverVersion, d.GlobalMemory>>20, d.MaxAlloc>>20,
				d.ComputeUnits, d.MaxWorkGroupSize, d.LocalMemory>>10)
		}
	}
	tw.Flush()
	if cands, err := backend.Select("auto"); err == nil {
		fmt.Fprintf(w, "\nauto selects %s (%s)\n", cands[0].ID(), cands[0].Name)
	}
}
