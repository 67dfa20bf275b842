#pragma once
// qcustomplot.h uses Qt's `signals` and `foreach` keywords, which QT_NO_KEYWORDS
// turns off project-wide (torch has a member named `slots`). They are defined for this one
// header and removed again.

#define signals Q_SIGNALS
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef foreach
