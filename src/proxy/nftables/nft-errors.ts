// nft refused a transaction or a listing: its message, and what it wrote on stderr.
export class NftCommandError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'NftCommandError';
  }
}
