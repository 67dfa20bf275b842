#pragma once

namespace app {

/// Creates the QApplication and the main window and runs the event loop. Returns the exit code.
int runGui(int argc, char** argv);

} // namespace app
