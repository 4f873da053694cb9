// Command genparams writes the OpenCL and GLSL params headers from the Go
// params structs. Run through go generate ./shaders/...
package main

import (
	"log"
	"os"

	"github.com/crossgrad/crossgrad/shaders"
)

func main() {
	if err := os.WriteFile("opencl/params.h", []byte(shaders.OpenCLParamsHeader()), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("vulkan/params.glsl", []byte(shaders.GLSLParamsHeader()), 0o644); err != nil {
		log.Fatal(err)
	}
}
