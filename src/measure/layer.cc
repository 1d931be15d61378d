// Names the layer in the binary so its static library is never empty, and lets tools report it.
namespace edgellm { extern const char kLayer_measure[] = "measure"; }
