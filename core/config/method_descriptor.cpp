#include "config/method_descriptor.h"

#include "util/error.h"

#include <deque>

namespace core {
namespace {

// A deque: descriptors keep their addresses when a method is registered later.
std::deque<MethodDescriptor>& registry()
{
    static std::deque<MethodDescriptor> descriptors = [] {
        std::deque<MethodDescriptor> builtIn;
        for (MethodDescriptor& descriptor : builtInMethodDescriptors())
            builtIn.push_back(std::move(descriptor));
        return builtIn;
    }();
    return descriptors;
}

} // namespace

std::vector<std::string> capabilityNames(const MethodCapabilities& capabilities)
{
    std::vector<std::string> names;
    if (capabilities.learnsBlockParameters)
        names.push_back("learns block parameters");
    if (capabilities.takesLoss)
        names.push_back("takes a loss");
    if (capabilities.modelStage)
        names.push_back("model-level stage");
    if (capabilities.quantizesActivations)
        names.push_back("quantizes activations");
    return names;
}

std::vector<const MethodDescriptor*> methodDescriptors()
{
    std::vector<const MethodDescriptor*> all;
    for (const MethodDescriptor& descriptor : registry())
        all.push_back(&descriptor);
    return all;
}

const MethodDescriptor* findMethodDescriptor(const std::string& name)
{
    for (const MethodDescriptor& descriptor : registry())
        if (descriptor.name == name)
            return &descriptor;
    return nullptr;
}

const MethodDescriptor& methodDescriptor(const std::string& name)
{
    if (const MethodDescriptor* descriptor = findMethodDescriptor(name))
        return *descriptor;
    throw Error("method '" + name + "' is unknown (known: " + methodNameList() + ")");
}

void registerMethodDescriptor(MethodDescriptor descriptor)
{
    if (descriptor.name.empty() || !descriptor.create)
        throw Error("a method descriptor needs a name and a factory");
    if (findMethodDescriptor(descriptor.name) != nullptr)
        throw Error("method '" + descriptor.name + "' is registered already");
    registry().push_back(std::move(descriptor));
}

std::string methodNameList()
{
    std::string names;
    for (const MethodDescriptor& descriptor : registry())
        names += (names.empty() ? "" : ", ") + descriptor.name;
    return names;
}

} // namespace core
