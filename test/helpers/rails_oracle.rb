# Real ActiveSupport (Debian's ruby-activesupport, 6.1) for flagon's tests: writes and reads Rails
# encrypted session cookies with ActiveSupport::MessageEncryptor, making the calls ActionDispatch's
# encrypted cookie jar makes (actionpack 6.1, action_dispatch/middleware/cookies.rb):
#
#   key       = key_generator.generate_key("authenticated encrypted cookie", 32)
#   encryptor = MessageEncryptor.new(key, cipher: "aes-256-gcm", serializer: NullSerializer)
#   write     = encryptor.encrypt_and_sign(JSON.encode(session), purpose: "cookie.<name>", expires_at: ...)
#   read      = decrypt_and_verify(value, purpose: "cookie.<name>") || decrypt_and_verify(value)
#
# key_generator is KeyGenerator.new(secret_key_base, iterations: 1000): PBKDF2-HMAC-SHA1 in Rails 6.1;
# Rails 7 passes hash_digest_class: SHA256, whose generate_key is OpenSSL::PKCS5.pbkdf2_hmac with that
# digest (6.1's KeyGenerator has no digest option, so the SHA256 key is made with that same call here).
#
# Reads {"ops": [...]} as JSON on stdin, writes {"results": [...]}. Operations:
#   {"op": "encrypt", "secret_key_base", "cookie_name", "data", "digest": "sha1"|"sha256",
#    "metadata": true|false, "expires_at": ISO8601 | null, "now": seconds}
#       -> {"cookie": value as Rails holds it, "escaped": value as Rack writes it in Set-Cookie}
#   {"op": "decrypt", "secret_key_base", "cookie_name", "cookie", "digest", "now"}
#       -> {"ok": true, "data"} or {"ok": false, "error"}
# Run with /usr/bin/ruby.
require "json"
require "openssl"
require "uri"
require "active_support"
require "active_support/json"
require "active_support/key_generator"
require "active_support/message_encryptor"
require "active_support/core_ext/time"

SALT = "authenticated encrypted cookie"
ITERATIONS = 1000

def key_for(secret_key_base, digest)
  if digest == "sha1"
    ActiveSupport::KeyGenerator.new(secret_key_base, iterations: ITERATIONS).generate_key(SALT, 32)
  else
    OpenSSL::PKCS5.pbkdf2_hmac(secret_key_base, SALT, ITERATIONS, 32, OpenSSL::Digest::SHA256.new)
  end
end

def encryptor(op)
  ActiveSupport::MessageEncryptor.new(
    key_for(op.fetch("secret_key_base"), op.fetch("digest", "sha1")),
    cipher: "aes-256-gcm",
    serializer: ActiveSupport::MessageEncryptor::NullSerializer,
  )
end

# Metadata#fresh? and pick_expiry read Time.now: pin it for one operation.
def at(seconds)
  real = Time.method(:now)
  Time.define_singleton_method(:now) { Time.at(seconds).utc }
  yield
ensure
  Time.define_singleton_method(:now, &real)
end

def encrypt(op)
  metadata = {}
  if op["metadata"]
    metadata[:purpose] = "cookie.#{op.fetch("cookie_name")}"
    metadata[:expires_at] = Time.iso8601(op["expires_at"]) if op["expires_at"]
  end
  value = at(op.fetch("now", Time.now.to_i)) do
    encryptor(op).encrypt_and_sign(ActiveSupport::JSON.encode(op.fetch("data")), **metadata)
  end
  # Rack::Utils.escape (what Rack's set_cookie uses) is URI.encode_www_form_component.
  { "cookie" => value, "escaped" => URI.encode_www_form_component(value) }
end

def decrypt(op)
  at(op.fetch("now", Time.now.to_i)) do
    box = encryptor(op)
    purpose = "cookie.#{op.fetch("cookie_name")}"
    message = box.decrypt_and_verify(op.fetch("cookie"), purpose: purpose) || box.decrypt_and_verify(op.fetch("cookie"))
    next { "ok" => false, "error" => "nil (purpose or expiry)" } if message.nil?
    data = ActiveSupport::JSON.decode(message)
    next { "ok" => false, "error" => "not a hash" } unless data.is_a?(Hash)
    { "ok" => true, "data" => data }
  end
rescue ActiveSupport::MessageEncryptor::InvalidMessage, ArgumentError, JSON::ParserError => e
  { "ok" => false, "error" => e.class.name }
end

ops = JSON.parse($stdin.read).fetch("ops")
results = ops.map do |op|
  case op.fetch("op")
  when "encrypt" then encrypt(op)
  when "decrypt" then decrypt(op)
  else raise "unknown op #{op["op"]}"
  end
end
$stdout.write(JSON.generate({ "activesupport" => ActiveSupport::VERSION::STRING, "results" => results }))
