export type CryptoErrorCode =
  | 'WRONG_PASSPHRASE' // the recovery passphrase does not open the backed-up key
  | 'TAMPERED' // a ciphertext failed authentication, or was moved to another variable
  | 'NO_KEY' // this account holds no copy of the needed data key (not a member, or removed)
  | 'BAD_KEY' // a key that is not the expected kind (wrong curve, not private…)
  | 'NOT_SEALED' // a value that is not an apisync sealed value
  | 'NOT_ALLOWED' // this account's role in the keyring does not allow the change (only admins manage members and keys)
  | 'NOT_VERIFIED' // the keyring has no verified chain to change (unsigned, ambiguous genesis, or none yet)

export class CryptoError extends Error {
  override readonly name = 'CryptoError'
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
  ) {
    super(message)
  }
}
