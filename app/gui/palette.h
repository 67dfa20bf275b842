#pragma once
// Light (Fusion's own) and dark palettes for the whole application.

namespace app {

/// Applies the dark palette (true) or Fusion's standard light one (false) to qApp.
void applyPalette(bool dark);

} // namespace app
