// The built-in calibration methods. Each one is a file that defines its descriptor function
// (config/method_descriptor.h); adding a method is that file plus its two lines here.
#include "config/method_descriptor.h"

namespace core {

MethodDescriptor rtnMethod();       // calib/rtn_method.cpp
MethodDescriptor gptqMethod();      // calib/gptq_method.cpp
MethodDescriptor omniQuantMethod(); // calib/omniquant.cpp
MethodDescriptor tesseraQMethod();  // calib/tesseraq.cpp
MethodDescriptor spqrMethod();      // calib/spqr_method.cpp
MethodDescriptor billmMethod();     // calib/billm_method.cpp
MethodDescriptor ostQuantMethod();  // calib/ostquant_method.cpp
MethodDescriptor ptq161Method();    // calib/ptq161_method.cpp
MethodDescriptor lrQuantMethod();   // calib/lrquant_method.cpp

std::vector<MethodDescriptor> builtInMethodDescriptors()
{
    return {rtnMethod(),   gptqMethod(),     omniQuantMethod(), tesseraQMethod(), spqrMethod(),
            billmMethod(), ostQuantMethod(), ptq161Method(),    lrQuantMethod()};
}

} // namespace core
