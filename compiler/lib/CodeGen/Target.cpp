// Target setup, the module's assembly from the stdlib bitcode and the generated program, LLVM's
// optimization pipeline, object emission, and the in-process JIT that kiln-slt uses.

#include "Emitter.h"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/Transforms/IPO/GlobalDCE.h>

#include <mutex>

namespace kiln::codegen {

Artifact::Artifact(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Artifact::~Artifact() = default;

namespace {

void initializeLLVM() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

std::unique_ptr<llvm::TargetMachine> hostTargetMachine(std::string &error) {
  initializeLLVM();
  std::string triple = llvm::sys::getDefaultTargetTriple();
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  llvm::TargetOptions options;
  // Executables are built in CI and deployed elsewhere: target a baseline CPU, not the build
  // machine's. x86-64-v2 (SSE4.2, 2009 on) is what the runtime's JSON parser needs anyway.
  return std::unique_ptr<llvm::TargetMachine>(
      target->createTargetMachine(triple, "x86-64-v2", "", options, llvm::Reloc::PIC_, std::nullopt,
                                  llvm::CodeGenOptLevel::Aggressive));
}

} // namespace

std::unique_ptr<Artifact> generate(const ir::Module &module,
                                   const std::vector<SourceTable> &sources, const Options &options,
                                   std::string &error) {
  auto impl = std::make_unique<Artifact::Impl>();
  impl->target = hostTargetMachine(error);
  if (!impl->target)
    return nullptr;
  impl->context = std::make_unique<llvm::LLVMContext>();
  // Start from the stdlib's bitcode so calls use exactly the signatures clang gave it.
  auto buffer = llvm::MemoryBuffer::getFile(options.stdlib_bitcode);
  if (!buffer) {
    error = "cannot read the stdlib bitcode " + options.stdlib_bitcode + ": " +
            buffer.getError().message();
    return nullptr;
  }
  auto stdlib = llvm::parseBitcodeFile((*buffer)->getMemBufferRef(), *impl->context);
  if (!stdlib) {
    error = "cannot parse the stdlib bitcode: " + llvm::toString(stdlib.takeError());
    return nullptr;
  }
  impl->module = std::move(*stdlib);
  impl->module->setModuleIdentifier(module.name);
  impl->module->setDataLayout(impl->target->createDataLayout());
  impl->module->setTargetTriple(impl->target->getTargetTriple().str());
  Emitter emitter(*impl->context, *impl->module, module, sources, options);
  if (!emitter.run(error))
    return nullptr;
  // The stdlib is private to this program: unused functions disappear, used ones inline. Clang
  // stamped its functions with its own target CPU and features; LLVM inlines only between
  // functions whose targets agree, so everything gets the target machine's.
  for (llvm::Function &f : *impl->module) {
    if (f.isDeclaration())
      continue;
    f.setLinkage(llvm::GlobalValue::InternalLinkage);
    f.removeFnAttr("target-cpu");
    f.removeFnAttr("target-features");
    f.removeFnAttr("tune-cpu");
    f.addFnAttr("target-cpu", impl->target->getTargetCPU());
  }
  for (llvm::GlobalVariable &g : impl->module->globals())
    if (!g.isDeclaration() && g.getName() != "kiln_program_main")
      g.setLinkage(llvm::GlobalValue::InternalLinkage);
  (void)options.opt_level;
  return std::make_unique<Artifact>(std::move(impl));
}

std::string Artifact::llvmText() const {
  std::string text;
  llvm::raw_string_ostream os(text);
  impl_->module->print(os, nullptr);
  return os.str();
}

void Artifact::optimize(int opt_level) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(impl_->target.get());
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level = opt_level <= 0   ? llvm::OptimizationLevel::O0
                                  : opt_level == 1 ? llvm::OptimizationLevel::O1
                                  : opt_level == 2 ? llvm::OptimizationLevel::O2
                                                   : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager passes;
  if (level == llvm::OptimizationLevel::O0) {
    // Still drop the stdlib functions the program does not call, so they are not compiled.
    passes = builder.buildO0DefaultPipeline(level);
    passes.addPass(llvm::GlobalDCEPass());
  } else {
    passes = builder.buildPerModuleDefaultPipeline(level);
  }
  passes.run(*impl_->module, mam);
}

bool Artifact::emitObject(const std::string &path, std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write " + path + ": " + ec.message();
    return false;
  }
  llvm::legacy::PassManager passes;
  if (impl_->target->addPassesToEmitFile(passes, out, nullptr, llvm::CodeGenFileType::ObjectFile)) {
    error = "the target cannot emit object files";
    return false;
  }
  passes.run(*impl_->module);
  out.flush();
  return true;
}

struct JitProgram::Impl {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  const kiln_program *program = nullptr;
};

JitProgram::JitProgram(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JitProgram::~JitProgram() = default;
const kiln_program *JitProgram::program() const { return impl_->program; }

std::unique_ptr<JitProgram> jitCompile(std::unique_ptr<Artifact> artifact, std::string &error) {
  initializeLLVM();
  // kiln-slt compiles a program per query and runs it on a few rows: fast instruction selection
  // (the IR is already optimized) matters far more than the speed of the machine code.
  auto target = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!target) {
    error = llvm::toString(target.takeError());
    return nullptr;
  }
  target->setCodeGenOptLevel(llvm::CodeGenOptLevel::None);
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*target)).create();
  if (!jit) {
    error = llvm::toString(jit.takeError());
    return nullptr;
  }
  // Runtime symbols come from the host process (kiln-slt links the runtime and exports it).
  auto generator = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!generator) {
    error = llvm::toString(generator.takeError());
    return nullptr;
  }
  (*jit)->getMainJITDylib().addGenerator(std::move(*generator));
  Artifact::Impl &impl = artifact->impl();
  impl.module->setDataLayout((*jit)->getDataLayout());
  if (auto err = (*jit)->addIRModule(
          llvm::orc::ThreadSafeModule(std::move(impl.module), std::move(impl.context)))) {
    error = llvm::toString(std::move(err));
    return nullptr;
  }
  auto symbol = (*jit)->lookup("kiln_program_main");
  if (!symbol) {
    error = llvm::toString(symbol.takeError());
    return nullptr;
  }
  auto result = std::make_unique<JitProgram::Impl>();
  result->program = symbol->toPtr<const kiln_program *>();
  result->jit = std::move(*jit);
  return std::make_unique<JitProgram>(std::move(result));
}

} // namespace kiln::codegen
