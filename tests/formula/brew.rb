# A stand-in for the parts of Homebrew's formula API that
# Formula/photos-backup.rb uses, so tests/cli_install.rs can run the
# formula's `install` and `test do` against the binary cargo built, on a
# machine without Homebrew. `cargo install` is the one step not run: it
# copies the built binary into the prefix instead. Every other command the
# formula runs is run for real and must succeed, as under brew.
#
# ruby brew.rb FORMULA BINARY WORKDIR
# prints the formula's caveats, installs into WORKDIR/prefix.

require "fileutils"
require "open3"
require "pathname"

FORMULA_FILE, BUILT_BINARY, WORKDIR = ARGV
PREFIX = Pathname(WORKDIR)/"prefix"
HOMEBREW_PREFIX = Pathname(WORKDIR)/"homebrew"

# Homebrew's BuildError: a step that failed.
class BuildError < StandardError; end

# `version` of a --HEAD build: HEAD-<short commit>.
class HeadVersion < String
  def commit
    "abc1234"
  end
end

def run!(*args)
  out, status = Open3.capture2(*args.map(&:to_s))
  raise BuildError, "failed (#{status.exitstatus}): #{args.join(" ")}" unless status.success?

  out
end

# Homebrew's Utils.safe_popen_read: stdout of a command that must succeed.
module Utils
  def self.safe_popen_read(*args)
    run!(*args)
  end
end

# The formula DSL: what the class body declares, and the instance helpers.
class Formula
  class << self
    attr_reader :declared

    def declare(key, value)
      (@declared ||= Hash.new { |h, k| h[k] = [] })[key] << value
    end

    %i[desc homepage license depends_on].each do |name|
      define_method(name) { |value| declare(name, value) }
    end

    def head(url, **options)
      declare(:head, [url, options])
    end

    def test(&block)
      declare(:test, block)
    end
  end

  def prefix = PREFIX
  def bin = PREFIX/"bin"
  def man1 = (PREFIX/"share/man/man1").tap(&:mkpath)
  def testpath = (Pathname(WORKDIR)/"test").tap(&:mkpath)
  def version = HeadVersion.new("HEAD-abc1234")
  def build = Struct.new(:head?).new(true)
  def std_cargo_args = ["--locked", "--root", PREFIX.to_s, "--path", "."]

  def system(*args)
    if args.first == "cargo"
      raise BuildError, "not cargo install: #{args}" unless args[1] == "install" && args.include?("--locked")

      bin.mkpath
      FileUtils.cp(BUILT_BINARY, bin/"photos-backup")
    else
      run!(*args)
    end
  end

  def shell_output(command, status = 0)
    out, st = Open3.capture2(command)
    raise BuildError, "#{command}: exit #{st.exitstatus}, not #{status}" unless st.exitstatus == status

    out
  end

  def assert_match(expected, actual)
    return if expected.is_a?(Regexp) ? expected.match?(actual) : actual.include?(expected)

    raise BuildError, "#{actual.inspect} does not match #{expected.inspect}"
  end

  # Writes each shell's script where Homebrew puts it.
  def generate_completions_from_executable(*command, shells:)
    places = {
      bash: PREFIX/"etc/bash_completion.d/photos-backup",
      zsh: PREFIX/"share/zsh/site-functions/_photos-backup",
      fish: PREFIX/"share/fish/vendor_completions.d/photos-backup.fish",
    }
    shells.each do |shell|
      script = run!(*command, shell.to_s)
      raise BuildError, "empty #{shell} completions" if script.empty?

      places.fetch(shell).dirname.mkpath
      places.fetch(shell).write(script)
    end
  end
end

load FORMULA_FILE
formula = Formula.subclasses.first.new
formula.install
# As brew test: HOME is the test's own folder.
ENV["HOME"] = formula.testpath.to_s
formula.instance_eval(&Formula.subclasses.first.declared[:test].first)
puts formula.caveats
