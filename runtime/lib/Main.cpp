// main() of a generated executable: `kiln build` links this with the program it generated.
#include "kiln/runtime/Host.h"

extern "C" const kiln_program kiln_program_main;

int main(int argc, char **argv) { return kiln::runtime::runMain(&kiln_program_main, argc, argv); }
