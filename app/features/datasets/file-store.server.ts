/** The one place datasets reach the platform's file store (local disk by default, Supabase Storage when configured). */
export { getFileStore, type FileStore } from '#app/storage/storage.server.ts'
